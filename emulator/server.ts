import crypto from "node:crypto";
import https from "node:https";
import type { Socket } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { matchArmPath } from "./arm/api";
import { transientArmError } from "./arm/errors";
import type { VirtualClock } from "./clock";
import type { FaultInjector, FaultRule } from "./faults";
import { ARM_ROUTES, headerMap, isObject, type Reply, type RequestContext, type RouteName } from "./http";
import type { RequestLog } from "./request-log";

export interface Handlers {
  /** May wait (the optional blob-backed jar storage is asked before a runJob). */
  arm(ctx: RequestContext): Reply | Promise<Reply>;
  openid(ctx: RequestContext): Reply;
  keys(ctx: RequestContext): Reply;
  token(ctx: RequestContext): Reply;
  oidc(ctx: RequestContext): Reply;
  msi(ctx: RequestContext): Reply;
  control(ctx: RequestContext): Reply;
}

interface Route {
  route: RouteName;
  params: Record<string, string>;
  handler: (ctx: RequestContext) => Reply | Promise<Reply>;
}

/**
 * One HTTPS server for everything. Per request: parse, route, apply transport-level faults
 * (status / drop / delay / dropAfter), run the handler, log.
 */
export class EmulatorServer {
  readonly server: https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly pendingDelays = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    tls: { key: string; cert: string; ca: string },
    private readonly handlers: Handlers,
    private readonly faults: FaultInjector,
    private readonly log: RequestLog,
    private readonly clock: VirtualClock,
  ) {
    this.server = https.createServer({ key: tls.key, cert: tls.cert + "\n" + tls.ca }, (req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { code: "InternalServerError", message: `Emulator error: ${(e as Error).message}` } }));
        }
      });
    });
    this.server.on("secureConnection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    // Keep-alive connections from clients must not keep close() waiting.
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const addr = this.server.address();
        resolve(typeof addr === "object" && addr ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const t of this.pendingDelays) clearTimeout(t);
    this.pendingDelays.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.server.closeAllConnections?.();
    });
  }

  private route(method: string, path: string): Route {
    const h = this.handlers;
    if (path.startsWith("/_emulator/") || path === "/_emulator") return { route: "control", params: {}, handler: h.control };
    const arm = matchArmPath(path);
    if (arm) return { ...arm, handler: h.arm };
    const seg = path.split("/").filter(Boolean);
    let m: RegExpExecArray | null;
    if ((m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/i.exec(path))) return { route: "openid", params: { tenant: m[1]! }, handler: h.openid };
    if ((m = /^\/([^/]+)\/discovery\/v2\.0\/keys$/i.exec(path))) return { route: "openid", params: { tenant: m[1]! }, handler: h.keys };
    if ((m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/i.exec(path))) return { route: "token", params: { tenant: m[1]! }, handler: h.token };
    if (seg.length === 11 && /^\/[^/]+\/[^/]+\/_apis\/distributedtask\/hubs\/build\/plans\/[^/]+\/jobs\/[^/]+\/oidctoken$/i.test(path))
      return { route: "oidc", params: { org: seg[0]!, project: seg[1]!, plan: seg[7]!, job: seg[9]! }, handler: h.oidc };
    if (/^\/msi\/token$/i.test(path)) return { route: "msi", params: {}, handler: h.msi };
    void method;
    return {
      route: "unknown",
      params: {},
      handler: (ctx) => ({ status: 404, json: { error: { code: "NotFound", message: `No emulated endpoint at ${ctx.method} ${ctx.path}.` } } }),
    };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const time = this.clock.now();
    const seq = this.log.nextSeq();
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", "https://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    const headers = headerMap(req);
    const { route, params, handler } = this.route(method, url.pathname);
    const ctx: RequestContext = {
      req,
      res,
      method,
      url,
      path: url.pathname,
      query: url.searchParams,
      headers,
      rawBody,
      body: undefined,
      route,
      params,
      requestId: crypto.randomUUID(),
    };
    parseBody(ctx);

    let faultNote: string | undefined;
    const finish = (status: number): void => {
      this.log.add({
        seq,
        time,
        wallTime: started,
        method,
        route,
        path: ctx.path,
        query: Object.fromEntries(ctx.query.entries()),
        headers,
        body: ctx.body,
        status,
        durationMs: Date.now() - started,
        requestId: ctx.requestId,
        remotePort: req.socket.remotePort ?? 0,
        ...(faultNote ? { fault: faultNote } : {}),
      });
    };

    const props = isObject(ctx.body) && isObject(ctx.body["properties"]) ? ctx.body["properties"] : undefined;
    const match = {
      route,
      jobName: typeof props?.["jobName"] === "string" ? props["jobName"] : undefined,
      action: typeof props?.["action"] === "string" ? props["action"] : undefined,
    };
    if (route !== "control") {
      const delay = this.faults.take(["delay"], match);
      if (delay) {
        faultNote = `delay ${delay.delayMs}ms`;
        await this.sleep(delay.delayMs);
        if (this.closed) return;
      }
      const drop = this.faults.take(["drop"], match);
      if (drop) {
        faultNote = "drop";
        finish(0);
        req.socket.destroy();
        return;
      }
      const status = this.faults.take(["status"], match);
      if (status) {
        faultNote = `status ${status.status}`;
        const reply = this.faultReply(ctx, status);
        this.write(ctx, reply);
        finish(reply.status);
        return;
      }
    }

    const reply = await handler(ctx);
    const statusAfter = route !== "control" ? this.faults.take(["statusAfter"], match) : undefined;
    if (statusAfter) {
      // The work is done (a runJob action is accepted), yet the client is told it was refused.
      faultNote = `statusAfter ${statusAfter.status}`;
      const refusal = this.faultReply(ctx, { ...statusAfter, kind: "status" });
      this.write(ctx, refusal);
      finish(refusal.status);
      return;
    }
    if (route !== "control" && this.faults.take(["dropAfter"], match)) {
      // The work is done (a runJob action is accepted) but the client never hears back.
      faultNote = "dropAfter";
      finish(0);
      req.socket.destroy();
      return;
    }
    this.write(ctx, reply);
    finish(reply.status);
  }

  private faultReply(ctx: RequestContext, rule: Extract<FaultRule, { kind: "status" }>): Reply {
    const status = rule.status;
    const headers: Record<string, string> = {};
    if (status === 429 || rule.retryAfterSec !== undefined) headers["retry-after"] = String(rule.retryAfterSec ?? 1);
    if (ARM_ROUTES.has(ctx.route)) return { status, json: { error: transientArmError(status) }, headers };
    if (ctx.route === "token" || ctx.route === "openid") {
      const code = status === 429 ? 50196 : 90033;
      return {
        status,
        headers,
        json: {
          error: status === 429 ? "temporarily_unavailable" : "server_error",
          error_description: `AADSTS${code}: ${status === 429 ? "The server is temporarily throttling requests." : "A transient error has occurred. Please try again."}`,
          error_codes: [code],
          timestamp: new Date().toISOString(),
          trace_id: crypto.randomUUID(),
          correlation_id: ctx.headers["client-request-id"] ?? crypto.randomUUID(),
        },
      };
    }
    if (ctx.route === "msi") return { status, headers, json: { statusCode: status, message: `Injected managed identity endpoint failure (HTTP ${status}).` } };
    return { status, headers, json: { message: `Injected failure (HTTP ${status}).`, typeKey: "ServiceUnavailableException", errorCode: 0, eventId: 3000 } };
  }

  private write(ctx: RequestContext, reply: Reply): void {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    headers["x-ms-request-id"] = ctx.requestId;
    const clientRequestId = ctx.headers["x-ms-client-request-id"];
    if (clientRequestId) headers["x-ms-client-request-id"] = clientRequestId;
    if (ARM_ROUTES.has(ctx.route)) {
      headers["x-ms-correlation-request-id"] ??= ctx.headers["x-ms-correlation-request-id"] ?? crypto.randomUUID();
      headers["x-ms-routing-request-id"] ??= `WESTUS2:${new Date().toISOString().replace(/[-:.]/g, "").slice(0, 15)}Z:${ctx.requestId}`;
    }
    headers["cache-control"] ??= "no-cache";
    let body: string;
    if (reply.text !== undefined) {
      body = reply.text;
      headers["content-type"] ??= "text/plain; charset=utf-8";
    } else if (reply.json !== undefined) {
      body = JSON.stringify(reply.json);
      headers["content-type"] ??= "application/json; charset=utf-8";
    } else {
      body = "";
    }
    headers["content-length"] = String(Buffer.byteLength(body));
    ctx.res.writeHead(reply.status, headers);
    ctx.res.end(body);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.pendingDelays.delete(t);
        resolve();
      }, ms);
      this.pendingDelays.add(t);
      // close() clears the timer; resolve anyway so the request handler unwinds.
      t.unref?.();
    });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(ctx: RequestContext): void {
  if (!ctx.rawBody) return;
  const ct = (ctx.headers["content-type"] ?? "").toLowerCase();
  if (ct.includes("application/x-www-form-urlencoded")) {
    ctx.body = Object.fromEntries(new URLSearchParams(ctx.rawBody).entries());
    return;
  }
  try {
    ctx.body = JSON.parse(ctx.rawBody) as unknown;
  } catch (e) {
    ctx.bodyError = (e as Error).message;
  }
}
