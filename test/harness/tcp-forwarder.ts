/**
 * A loopback TCP forwarder in front of a real server, for REST outages: `interrupt()` stops
 * listening and cuts every open connection (clients then get ECONNREFUSED), `resume()` listens
 * again on the same port. It notes the HTTP request lines it carries, so a test can act when a
 * task reaches a given call (the middle of a wait).
 */
import * as net from "node:net";

export interface TcpForwarder {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** "METHOD /path" of every HTTP request carried, in order. */
  requests: string[];
  /** Resolves with the first request from index `from` on whose line matches, polling every 100 ms. */
  waitForRequest(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** The outage begins: no listener, open connections cut. */
  interrupt(): Promise<void>;
  /** The outage ends: listening again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/;

export async function startTcpForwarder(targetPort: number): Promise<TcpForwarder> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => {
      const line = REQUEST_LINE.exec(chunk.toString("latin1", 0, Math.min(chunk.length, 2048)));
      if (line) requests.push(`${line[1]} ${line[2]}`);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side gone: the other is cut, as a dead JobManager or a reloading ingress does.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const interrupt = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    waitForRequest: async (pattern, { from = 0, timeoutMs = 120_000 } = {}) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.slice(from).find((request) => pattern.test(request));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`No request matching ${pattern} within ${timeoutMs / 1000} s; seen: ${requests.slice(from).join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    interrupt,
    resume: () => listen(port),
    close: () => (server.listening ? interrupt() : Promise.resolve()),
  };
}
