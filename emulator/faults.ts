import { ARM_ROUTES, type RouteName } from "./http";

/**
 * A fault rule, scriptable per test (faults.add), on the command line (--fault) and through
 * POST /_emulator/faults. A rule applies to requests on `route` ('arm' = any ARM route,
 * '*' = any route), optionally only when the runJob body names `jobName` / `action`, and is used
 * up after `times` applications (default: unlimited).
 */
export type FaultRoute = RouteName | "arm" | "*";

/** What every rule may carry: where it applies and how often. */
interface RuleScope {
  /** Defaults: 'runJob' for neverFinish/noResult/actionFail/crash, 'jobs' for omitJob; required otherwise. */
  route?: FaultRoute;
  /** Used up after this many applications (default: unlimited). */
  times?: number;
  /** Only requests whose runJob body (or, for omitJob, the listed job) names this job. */
  jobName?: string;
  /** Only runJob bodies with this action. */
  action?: string;
}

/**
 * One member per kind, each with exactly the keys it reads, so the compiler refuses a typo
 * (`retryAfter` for `retryAfterSec`) in a test; validateRule refuses it at run time (CLI, control API).
 */
export type FaultRule = RuleScope &
  (
    | { kind: "status"; status: number; retryAfterSec?: number } // answer `status` with the route's error shape (429 always has Retry-After, default 1 s)
    | { kind: "statusAfter"; status: number; retryAfterSec?: number } // handle the request (runJob: the action IS accepted), then answer `status` as kind 'status' does
    | { kind: "drop" } // destroy the socket before anything happens (runJob: the action is NOT accepted)
    | { kind: "dropAfter" } // process the request (runJob: the action IS accepted), then destroy the socket
    | { kind: "delay"; delayMs: number } // wait delayMs (real time) before answering
    | { kind: "forbidden" } // ARM 403 AuthorizationFailed naming the permission and the caller's object id
    | { kind: "neverFinish" | "hangAction" } // runJob: the action stays IN_PROGRESS forever (hangAction: alias)
    | { kind: "noResult" } // runJob: the record is listed with no status, actionResult, jobOutput or jobId, forever (REAL: CLI recording)
    | { kind: "actionFail"; jobOutput: string; jobStatus?: string; keepSavepoint?: boolean } // runJob: the action ends FAILED with jobOutput
    | { kind: "crash"; afterMs: number } // runJob NEW/START/…: afterMs (virtual) after the action succeeds, the job's status becomes FAILED
    | { kind: "omitJob"; jobName: string } // jobs: the list leaves out the job named jobName
  );

export type FaultKind = FaultRule["kind"];

/** The keys each kind takes beyond the scope keys: the run-time twin of the type above. */
const KIND_KEYS: Record<FaultKind, readonly string[]> = {
  status: ["status", "retryAfterSec"],
  statusAfter: ["status", "retryAfterSec"],
  drop: [],
  dropAfter: [],
  delay: ["delayMs"],
  forbidden: [],
  neverFinish: [],
  hangAction: [],
  noResult: [],
  actionFail: ["jobOutput", "jobStatus", "keepSavepoint"],
  crash: ["afterMs"],
  omitJob: [],
};
const SCOPE_KEYS = ["route", "kind", "times", "jobName", "action"];
const RUNJOB_KINDS: readonly FaultKind[] = ["neverFinish", "hangAction", "noResult", "actionFail", "crash"];

type RuleOfKind<K extends FaultKind> = Extract<FaultRule, { kind: K }>;

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

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  add(rule: FaultRule): FaultHandle & { id: number } {
    validateFaultRule(rule);
    const normalized: FaultRule = rule.kind === "hangAction" ? { ...rule, kind: "neverFinish" } : { ...rule };
    if (normalized.route === undefined && RUNJOB_KINDS.includes(normalized.kind)) normalized.route = "runJob";
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
  take<K extends FaultKind>(kinds: K[], input: FaultMatchInput, consume = true): RuleOfKind<K> | undefined {
    for (const r of this.rules) {
      if (r.left <= 0 || !(kinds as FaultKind[]).includes(r.rule.kind) || !routeMatches(r.rule.route ?? "*", input.route)) continue;
      if (r.rule.jobName !== undefined && r.rule.jobName !== input.jobName) continue;
      if (r.rule.action !== undefined && r.rule.action.toUpperCase() !== (input.action ?? "").toUpperCase()) continue;
      if (consume) {
        r.left--;
        if (r.left <= 0) this.rules = this.rules.filter((x) => x !== r);
      }
      return r.rule as RuleOfKind<K>;
    }
    return undefined;
  }
}

function routeMatches(ruleRoute: FaultRoute, route: RouteName): boolean {
  if (ruleRoute === "*") return route !== "control";
  if (ruleRoute === "arm") return ARM_ROUTES.has(route);
  return ruleRoute.toLowerCase() === route.toLowerCase();
}

/** Checks a rule that may come from outside the compiler's reach (CLI, control API, JSON config). */
export function validateFaultRule(input: unknown): asserts input is FaultRule {
  if (!input || typeof input !== "object" || Array.isArray(input)) throw new Error("a fault rule must be an object");
  const rule = input as Record<string, unknown>;
  const kind = rule["kind"];
  if (typeof kind !== "string" || !Object.hasOwn(KIND_KEYS, kind))
    throw new Error(`unknown fault kind '${String(kind)}'; one of ${Object.keys(KIND_KEYS).join(", ")}`);
  const k = kind as FaultKind;
  const known = [...SCOPE_KEYS, ...KIND_KEYS[k]];
  const unknown = Object.keys(rule).filter((key) => !known.includes(key));
  if (unknown.length)
    throw new Error(`fault kind '${k}' does not know the key${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `'${u}'`).join(", ")}; it takes ${known.join(", ")}`);
  const num = (key: string) => rule[key] as number;
  if (rule["route"] === undefined ? !(RUNJOB_KINDS.includes(k) || k === "omitJob") : typeof rule["route"] !== "string" || !rule["route"])
    throw new Error(`fault kind '${k}' needs a route ('runJob', 'operation', 'jobs', 'token', 'openid', 'oidc', 'msi', 'arm', '*', …)`);
  for (const key of ["jobName", "action", "jobOutput", "jobStatus"])
    if (rule[key] !== undefined && typeof rule[key] !== "string") throw new Error(`'${key}' must be a string`);
  if (rule["keepSavepoint"] !== undefined && typeof rule["keepSavepoint"] !== "boolean") throw new Error("'keepSavepoint' must be true or false");
  if ((k === "status" || k === "statusAfter") && !(Number.isInteger(num("status")) && num("status") >= 400 && num("status") <= 599)) throw new Error(`kind '${k}' needs status 400-599`);
  if (rule["retryAfterSec"] !== undefined && !(typeof rule["retryAfterSec"] === "number" && num("retryAfterSec") >= 0)) throw new Error("retryAfterSec must be a number >= 0");
  if (k === "delay" && !(typeof rule["delayMs"] === "number" && num("delayMs") >= 0)) throw new Error("kind 'delay' needs delayMs >= 0");
  if (k === "actionFail" && typeof rule["jobOutput"] !== "string") throw new Error("kind 'actionFail' needs jobOutput");
  if (k === "crash" && !(typeof rule["afterMs"] === "number" && num("afterMs") >= 0)) throw new Error("kind 'crash' needs afterMs >= 0");
  if (k === "omitJob" && !rule["jobName"]) throw new Error("kind 'omitJob' needs jobName");
  if (rule["times"] !== undefined && !(Number.isInteger(rule["times"]) && num("times") > 0)) throw new Error("times must be a positive integer");
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
  validateFaultRule(out);
  return out;
}
