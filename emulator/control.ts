import { type FaultInjector, validateFaultRule } from "./faults";
import { isObject, type Reply, type RequestContext, type RouteName } from "./http";
import type { RequestLog } from "./request-log";

/** What the control API needs from the emulator (kept narrow so index.ts owns the wiring). */
export interface ControlTarget {
  info(): Record<string, unknown>;
  faults: FaultInjector;
  log: RequestLog;
  addJar(dir: string, name: string): void;
  listJars(): string[];
  listJobs(): unknown[];
  seedJob(input: unknown): unknown;
  advance(ms: number, tokens: boolean): number;
  now(): number;
}

/**
 * Loopback-only, unauthenticated control API for out-of-process users (the demo, a CLI user):
 *   GET    /_emulator/info                 connection values
 *   GET    /_emulator/log?route=&since=    request log;  DELETE /_emulator/log clears it
 *   GET    /_emulator/faults               active rules; POST adds one (or an array); DELETE clears;
 *   DELETE /_emulator/faults/{id}          removes one
 *   GET    /_emulator/jars                 known jars;  POST {jobJarDirectory, jarName} adds one
 *   GET    /_emulator/jobs                 job records as the API shows them; POST seeds one
 *   GET    /_emulator/clock                virtual now; POST /_emulator/clock/advance {ms, tokens?}
 */
export function handleControl(ctx: RequestContext, t: ControlTarget): Reply {
  const remote = ctx.req.socket.remoteAddress ?? "";
  if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(remote)) return { status: 403, json: { error: "control API is loopback-only" } };
  const path = ctx.path.replace(/\/+$/, "");
  const m = ctx.method;
  const bad = (message: string): Reply => ({ status: 400, json: { error: message } });
  try {
    if (path === "/_emulator/info" && m === "GET") return { status: 200, json: t.info() };
    if (path === "/_emulator/log" && m === "GET") {
      const route = ctx.query.get("route");
      const since = ctx.query.get("since");
      return {
        status: 200,
        json: t.log.entries({
          ...(route ? { route: route.split(",") as RouteName[] } : {}),
          ...(since ? { since: Number(since) } : {}),
        }),
      };
    }
    if (path === "/_emulator/log" && m === "DELETE") {
      t.log.clear();
      return { status: 204 };
    }
    if (path === "/_emulator/faults" && m === "GET") return { status: 200, json: t.faults.list() };
    if (path === "/_emulator/faults" && m === "POST") {
      const rules: unknown[] = Array.isArray(ctx.body) ? ctx.body : [ctx.body];
      // All or nothing: a typo in the third rule must not leave the first two active.
      rules.forEach((r, i) => {
        try {
          validateFaultRule(r);
        } catch (e) {
          throw new Error(rules.length > 1 ? `rule ${i + 1}: ${(e as Error).message}` : (e as Error).message);
        }
      });
      const ids = rules.map((r) => {
        validateFaultRule(r);
        return t.faults.add(r).id;
      });
      return { status: 201, json: { ids } };
    }
    if (path === "/_emulator/faults" && m === "DELETE") {
      t.faults.clear();
      return { status: 204 };
    }
    const fm = /^\/_emulator\/faults\/(\d+)$/.exec(path);
    if (fm && m === "DELETE") return t.faults.remove(Number(fm[1])) ? { status: 204 } : { status: 404, json: { error: "no such fault rule" } };
    if (path === "/_emulator/jars" && m === "GET") return { status: 200, json: t.listJars() };
    if (path === "/_emulator/jars" && m === "POST") {
      if (!isObject(ctx.body) || typeof ctx.body["jobJarDirectory"] !== "string" || typeof ctx.body["jarName"] !== "string")
        return bad("body must be {\"jobJarDirectory\": string, \"jarName\": string}");
      t.addJar(ctx.body["jobJarDirectory"], ctx.body["jarName"]);
      return { status: 201, json: t.listJars() };
    }
    if (path === "/_emulator/jobs" && m === "GET") return { status: 200, json: t.listJobs() };
    if (path === "/_emulator/jobs" && m === "POST") return { status: 201, json: t.seedJob(ctx.body) };
    if (path === "/_emulator/clock" && m === "GET") return { status: 200, json: { now: t.now() } };
    if (path === "/_emulator/clock/advance" && m === "POST") {
      const ms = isObject(ctx.body) ? ctx.body["ms"] : undefined;
      if (typeof ms !== "number") return bad("body must be {\"ms\": number}");
      return { status: 200, json: { now: t.advance(ms, isObject(ctx.body) && ctx.body["tokens"] === true) } };
    }
  } catch (e) {
    return bad((e as Error).message);
  }
  return { status: 404, json: { error: `no control endpoint ${m} ${path}` } };
}
