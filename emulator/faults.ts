import { ARM_ROUTES, type RouteName } from "./http";

/**
 * A fault rule, scriptable per test (faults.add), on the command line (--fault) and through
 * POST /_emulator/faults. A rule applies to requests on `route` ('arm' = any ARM route,
 * '*' = any route), optionally only when the runJob body names `jobName` / `action`, and is used
 * up after `times` applications (default: unlimited).
 */
export type FaultKind =
  | "status" // answer `status` (429 carries Retry-After: retryAfterSec) with the route's error shape
  | "drop" // destroy the socket before anything happens (runJob: the action is NOT accepted)
  | "dropAfter" // process the request (runJob: the action IS accepted), then destroy the socket
  | "delay" // wait delayMs (real time) before answering
  | "forbidden" // ARM 403 AuthorizationFailed naming the permission and the caller's object id
  | "neverFinish" // runJob: the action stays IN_PROGRESS forever
  | "hangAction" // alias of neverFinish
  | "actionFail" // runJob: the action ends FAILED with jobOutput (and status when given)
  | "crash" // runJob NEW/START/…: afterMs after the action succeeds the job's status becomes FAILED
  | "omitJob"; // jobs: the list leaves out the job named jobName

export type FaultRoute = RouteName | "arm" | "*";

export interface FaultRule {
  /** Defaults: 'runJob' for neverFinish/actionFail/crash, 'jobs' for omitJob; required otherwise. */
  route?: FaultRoute;
  kind: FaultKind;
  times?: number;
  jobName?: string;
  action?: string;
  status?: number;
  retryAfterSec?: number;
  delayMs?: number;
  jobOutput?: string;
  jobStatus?: string;
  /** actionFail on STOP/SAVEPOINT/UPDATE: the savepoint is still written (a stop that failed after the savepoint). */
  keepSavepoint?: boolean;
  afterMs?: number;
}

export interface FaultHandle {
  remaining(): number;
  remove(): void;
}

interface ActiveRule {
  id: number;
  rule: FaultRule;
  left: number;
}

export interface FaultMatchInput {
  route: RouteName;
  jobName?: string | undefined;
  action?: string | undefined;
}

const KINDS: ReadonlySet<string> = new Set([
  "status",
  "drop",
  "dropAfter",
  "delay",
  "forbidden",
  "neverFinish",
  "hangAction",
  "actionFail",
  "crash",
  "omitJob",
]);

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  add(rule: FaultRule): FaultHandle & { id: number } {
    validateRule(rule);
    const normalized: FaultRule = { ...rule, kind: rule.kind === "hangAction" ? "neverFinish" : rule.kind };
    if (normalized.route === undefined && ["neverFinish", "actionFail", "crash"].includes(normalized.kind)) normalized.route = "runJob";
    if (normalized.route === undefined && normalized.kind === "omitJob") normalized.route = "jobs";
    const active: ActiveRule = { id: this.nextId++, rule: normalized, left: rule.times ?? Infinity };
    this.rules.push(active);
    return {
      id: active.id,
      remaining: () => active.left,
      remove: () => {
        this.rules = this.rules.filter((r) => r !== active);
      },
    };
  }

  clear(): void {
    this.rules = [];
  }

  list(): Array<FaultRule & { id: number; remaining: number | null }> {
    return this.rules.map((r) => ({ ...r.rule, id: r.id, remaining: Number.isFinite(r.left) ? r.left : null }));
  }

  remove(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  /** First live rule of one of `kinds` matching the request; consumes one use when `consume`. */
  take(kinds: FaultKind[], input: FaultMatchInput, consume = true): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.left <= 0 || !kinds.includes(r.rule.kind) || !routeMatches(r.rule.route ?? "*", input.route)) continue;
      if (r.rule.jobName !== undefined && r.rule.jobName !== input.jobName) continue;
      if (r.rule.action !== undefined && r.rule.action.toUpperCase() !== (input.action ?? "").toUpperCase()) continue;
      if (consume) {
        r.left--;
        if (r.left <= 0) this.rules = this.rules.filter((x) => x !== r);
      }
      return r.rule;
    }
    return undefined;
  }
}

function routeMatches(ruleRoute: FaultRoute, route: RouteName): boolean {
  if (ruleRoute === "*") return route !== "control";
  if (ruleRoute === "arm") return ARM_ROUTES.has(route);
  return ruleRoute.toLowerCase() === route.toLowerCase();
}

function validateRule(rule: FaultRule): void {
  if (!rule || typeof rule !== "object") throw new Error("a fault rule must be an object");
  if (!KINDS.has(rule.kind)) throw new Error(`unknown fault kind '${String(rule.kind)}'; one of ${[...KINDS].join(", ")}`);
  const domainKind = ["neverFinish", "hangAction", "actionFail", "crash", "omitJob"].includes(rule.kind);
  if (rule.route === undefined ? !domainKind : typeof rule.route !== "string" || !rule.route)
    throw new Error(`fault kind '${rule.kind}' needs a route ('runJob', 'operation', 'jobs', 'token', 'openid', 'oidc', 'msi', 'arm', '*', …)`);
  if (rule.kind === "status" && !(Number.isInteger(rule.status) && (rule.status as number) >= 400 && (rule.status as number) <= 599))
    throw new Error("kind 'status' needs status 400-599");
  if (rule.kind === "delay" && !(typeof rule.delayMs === "number" && rule.delayMs >= 0)) throw new Error("kind 'delay' needs delayMs >= 0");
  if (rule.kind === "actionFail" && typeof rule.jobOutput !== "string") throw new Error("kind 'actionFail' needs jobOutput");
  if (rule.kind === "crash" && !(typeof rule.afterMs === "number" && rule.afterMs >= 0)) throw new Error("kind 'crash' needs afterMs >= 0");
  if (rule.kind === "omitJob" && !rule.jobName) throw new Error("kind 'omitJob' needs jobName");
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) throw new Error("times must be a positive integer");
}

/**
 * CLI syntax: comma-separated key=value pairs, e.g.
 *   route=runJob,kind=status,status=429,retryAfterSec=2,times=3
 *   route=runJob,kind=dropAfter,action=NEW,times=1
 *   route=jobs,kind=omitJob,jobName=job1,times=2
 * Values that look like numbers or booleans become numbers/booleans; jobOutput may use \n.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const out: Record<string, unknown> = {};
  for (const part of spec.split(",")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`fault '${spec}': '${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    out[key] =
      key === "jobOutput" || key === "jobName" || key === "jobStatus"
        ? raw.replace(/\\n/g, "\n")
        : /^-?\d+(\.\d+)?$/.test(raw)
          ? Number(raw)
          : raw === "true" || raw === "false"
            ? raw === "true"
            : raw;
  }
  const rule = out as unknown as FaultRule;
  validateRule(rule);
  return rule;
}
