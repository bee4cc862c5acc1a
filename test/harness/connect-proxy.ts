/** A real HTTP proxy that tunnels HTTPS with CONNECT and remembers every tunnel it opened. */
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface ConnectProxy {
  url: string;
  /** host:port of every CONNECT, in order. */
  tunnels: string[];
  /** Absolute URLs of plain-HTTP requests it was asked to forward (it refuses them with 501). */
  forwarded: string[];
  /** Local ports of the tunnels' upstream sockets: a server's view of the requests that came through. */
  upstreamPorts: Set<number>;
  /** Proxy-Authorization headers received. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startConnectProxy(options: { requireAuth?: string } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const upstreamPorts = new Set<number>();
  const authorizations: (string | undefined)[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    // Plain-HTTP forwarding is not needed: everything we call is HTTPS.
    forwarded.push(req.url ?? "");
    res.writeHead(501).end();
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    authorizations.push(req.headers["proxy-authorization"]);
    if (options.requireAuth && req.headers["proxy-authorization"] !== options.requireAuth) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n");
      return;
    }
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host!, () => {
      if (upstream.localPort !== undefined) upstreamPorts.add(upstream.localPort);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    upstreamPorts,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
