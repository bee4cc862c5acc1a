/** Azurite over HTTPS + the emulated Entra + the real @azure/identity, and proxies that misbehave. */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import { ContainerClient, newPipeline } from "@azure/storage-blob";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite, type Azurite } from "../../testbed/azurite/index";

export interface StorageBed {
  em: Emulator;
  az: Azurite;
  credential: TokenCredential;
  /** A client for the tests' own reads and writes (not the code under test). */
  container(name: string): ContainerClient;
  tmp: string;
  close(): Promise<void>;
}

export async function startStorageBed(): Promise<StorageBed> {
  const em = await startEmulator();
  const az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem }).catch(async (e: unknown) => {
    await em.close();
    throw e;
  });
  const credential = new ClientSecretCredential(em.tenantId, em.servicePrincipal.clientId, em.servicePrincipal.clientSecret, {
    authorityHost: em.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: em.caCertPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  const agent = new https.Agent({ ca: em.caCertPem, keepAlive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "jar-upload-"));
  return {
    em,
    az,
    credential,
    tmp,
    container(name) {
      const p = newPipeline(credential);
      p.factories.push({ create: (next) => ({ sendRequest: (r) => ((r as { agent?: unknown }).agent = agent, next.sendRequest(r)) }) });
      return new ContainerClient(`${az.blobEndpoint}/${name}`, p);
    },
    async close() {
      agent.destroy();
      await az.stop();
      await em.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export function randomJar(dir: string, name: string, bytes: number): { path: string; sha256: string; md5: string; data: Buffer } {
  const data = crypto.randomBytes(bytes);
  // Each jar in a directory of its own: versions of one jar keep the same file name.
  const p = path.join(fs.mkdtempSync(path.join(dir, "jar-")), name);
  fs.writeFileSync(p, data);
  return { path: p, data, sha256: crypto.createHash("sha256").update(data).digest("hex"), md5: crypto.createHash("md5").update(data).digest("base64") };
}

export function sha256(data: Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

export interface HeldRequest {
  method: string;
  url: string;
  /** The client gave up on it (closed the connection) before any answer. */
  abortedByClient: boolean;
}

/**
 * A TLS-terminating reverse proxy in front of Azurite (the emulator's certificate). `decide`
 * sees each request and says: forward it, answer with a storage error, or hold it unanswered.
 */
export async function startStorageFaultProxy(
  em: Emulator,
  az: Azurite,
  decide: (method: string, url: string) => "forward" | "hold" | { status: number; code: string; message: string },
): Promise<{ blobEndpoint: string; held: HeldRequest[]; requests: string[]; close(): Promise<void> }> {
  const target = new URL(az.blobEndpoint);
  const held: HeldRequest[] = [];
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ key: em.serverTls.keyPem, cert: em.serverTls.certPem }, (req, res) => {
    const d = decide(req.method ?? "", req.url ?? "");
    requests.push(`${req.method} ${req.url} → ${typeof d === "string" ? d : d.status}`);
    if (d === "hold") {
      const h: HeldRequest = { method: req.method ?? "", url: req.url ?? "", abortedByClient: false };
      held.push(h);
      req.resume();
      res.on("close", () => {
        if (!res.writableEnded) h.abortedByClient = true;
      });
      return;
    }
    if (d !== "forward") {
      req.resume();
      req.on("end", () => {
        const requestId = crypto.randomUUID();
        const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${d.code}</Code><Message>${d.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`;
        res.writeHead(d.status, { "content-type": "application/xml", "x-ms-error-code": d.code, "x-ms-request-id": requestId, "x-ms-version": "2025-11-05" });
        res.end(req.method === "HEAD" ? undefined : body);
      });
      return;
    }
    const up = https.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, ca: em.caCertPem, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    blobEndpoint: `https://127.0.0.1:${port}${target.pathname}`,
    held,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The agent's proxy (HTTP CONNECT) on a flaky network: the first `dropTunnels` tunnels that carry
 * more than `dropAfterBytes` bytes from the client are cut there, in the middle of a request body.
 */
export async function startDroppingConnectProxy(o: { dropTunnels: number; dropAfterBytes: number }): Promise<{ url: string; tunnels: string[]; dropped(): number; close(): Promise<void> }> {
  const tunnels: string[] = [];
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(501).end());
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host!, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      let seen = 0;
      client.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > o.dropAfterBytes && dropped < o.dropTunnels) {
          dropped++;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
      });
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
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Waits for a condition (never a timed assertion): polls until true or the deadline. */
export async function eventually(check: () => boolean, what: string, deadlineMs = 30000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
