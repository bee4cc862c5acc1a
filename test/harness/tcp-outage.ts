/**
 * A plain TCP forwarder on 127.0.0.1 in front of a server (Flink's REST port), which a test can take
 * down for a while and bring back on the same port: what a JobManager restart or an ingress reload
 * looks like from the client (connections reset, then refused, then accepted again).
 */
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpOutageProxy {
  url: string;
  /** "METHOD /path" of each HTTP request line that went through, in order. */
  requests: string[];
  /**
   * The next time a request line matches `pattern` (after `skip` matches): that request is dropped (never forwarded), every
   * connection is reset, and the port refuses connections for `ms`. Resolves once it accepts again.
   */
  outageOn(pattern: RegExp, ms: number, skip?: number): Promise<{ request: string; startedAt: number; endedAt: number }>;
  close(): Promise<void>;
}

export async function startTcpOutageProxy(target: string): Promise<TcpOutageProxy> {
  const upstreamUrl = new URL(target);
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let armed: { pattern: RegExp; skip: number; fire: (request: string) => void } | undefined;
  let server: net.Server;
  let port = 0;

  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("latin1").matchAll(/^(GET|POST|PATCH|PUT|DELETE) (\S+) HTTP\/1\.[01]\r$/gm)) {
        const request = `${line[1]} ${line[2]}`;
        requests.push(request);
        if (armed?.pattern.test(request) && armed.skip-- <= 0) {
          const { fire } = armed;
          armed = undefined;
          fire(request);
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer(onConnection);
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    outageOn(pattern, ms, skip = 0) {
      return new Promise((resolve, reject) => {
        armed = {
          pattern,
          skip,
          fire: (request) => {
            const startedAt = Date.now();
            void shut()
              .then(() => new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - startedAt)))))
              .then(listen)
              .then(() => resolve({ request, startedAt, endedAt: Date.now() }), reject);
          },
        };
      });
    },
    close: shut,
  };
}
