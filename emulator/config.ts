import path from "node:path";

/**
 * Every behaviour the reference marks GUESS (nobody recorded the real service doing it) is a
 * switch here, so a test can pin the guess it relies on and a new fact can flip it.
 */
export interface Guesses {
  /** A non-NEW action naming a job that does not exist: 'operationFailed' = 202, then the
   * operation status ends Failed with error JobNotFound; 'notFound' = the POST answers 404. */
  missingJob: "operationFailed" | "notFound";
  /** An action posted while another is in flight on the same record: 'conflict' = 409 Conflict;
   * 'operationFailed' = 202, then the operation ends Failed (Conflict), the record untouched. */
  concurrentAction: "conflict" | "operationFailed";
  /** $filter on 2023-06-01-preview (which has none in its spec): 'reject' = 400, 'ignore'. */
  filterOn2023_06: "reject" | "ignore";
  /** How $filter values are quoted: 'both' accepts jobName eq 'x' and jobName eq x. */
  filterQuoting: "both" | "quoted" | "unquoted";
  /** Status CANCEL leaves. */
  cancelStatus: string;
  /** DELETE removes the record (true) or leaves it with status DELETED (false). */
  deleteRemovesRecord: boolean;
  /** DELETE of a RUNNING job: 'fail' (must STOP/CANCEL first) or 'allow'. */
  deleteRunningJob: "fail" | "allow";
  /** LIST_SAVEPOINT's jobOutput: one path per line ('lines') or a JSON array ('json'). */
  listSavepointFormat: "lines" | "json";
  /** Savepoint directory when flinkConfiguration has no savepoint.directory; {cluster} is replaced. */
  defaultSavepointDirectory: string;
  /** While an action is IN_PROGRESS the record's jobOutput is 'omit'ted or 'keep's the previous one. */
  inProgressJobOutput: "omit" | "keep";
  /** Unknown properties in the runJob body are refused (400) rather than ignored. */
  rejectUnknownProperties: boolean;
  /** jobName must be lower case (the docs say so). */
  jobNameLowercase: boolean;
  /** A tampered or rebuilt operation-status URL: status of the refusal (ARM's exact answer is unrecorded). */
  badOperationSignatureStatus: 400 | 401 | 404;
  /** Order of the job list (undocumented): records as created, or the newest first. */
  listOrder: "oldestFirst" | "newestFirst";
  /** A $filter whose quoting the service does not take: 400 ('badRequest') or an empty 200 ('emptyList'). */
  unknownFilterQuoting: "badRequest" | "emptyList";
  /** The operation once done: 'standard' Succeeded/Failed, or 200 with no status at all, for ever ('noStatus'). */
  operationStatus: "standard" | "noStatus";
}

export interface EmulatorConfig {
  host?: string;
  port?: number;
  stateDir?: string;
  timeScale?: number;
  staleWindowMs?: number;
  actionDurationMs?: Partial<Record<string, number>>;
  /** Unset (REAL): an operation lasts its action's duration, ending when the job is submitted.
   * Set: every accepted operation ends this long after the POST, whatever the action. */
  operationDurationMs?: number;
  pageSize?: number;
  accessTokenLifetimeSec?: number;
  oidcTokenLifetimeSec?: number;
  guesses?: Partial<Guesses>;
  /** Jars the emulated storage holds besides the known demo jar: "dir/name" or {dir,name}. */
  jars?: Array<{ jobJarDirectory: string; jarName: string }>;
  /** Clusters served besides the default flink-emulator-rg/flinkpool/flinkcluster (the local runner adds the ones its pipeline names). */
  clusters?: Array<import("./arm/topology").ClusterAddress>;
  /** Jars live in a real Blob service (Azurite) instead of the names in `jars`: a NEW/UPDATE whose
   * jar blob is absent there fails the launch with "Failed to download jar". `blobEndpoint` is
   * path-style, https://127.0.0.1:<port>/<account>; the endpoint's CA must be the emulator's. */
  jarStorage?: { blobEndpoint: string };
  /** APIs of the tenant besides ARM, whose "<applicationIdUri>/.default" scope the token endpoint grants. */
  apis?: import("./entra").RegisteredApi[];
  /** Fault rules active from the start. */
  faults?: import("./faults").FaultRule[];
}

export const DEFAULT_GUESSES: Guesses = {
  missingJob: "operationFailed",
  concurrentAction: "conflict",
  filterOn2023_06: "reject",
  filterQuoting: "both",
  cancelStatus: "CANCELED",
  deleteRemovesRecord: true,
  deleteRunningJob: "fail",
  listSavepointFormat: "lines",
  defaultSavepointDirectory: "abfs://flink@flinkemulatorstore.dfs.core.windows.net/{cluster}/savepoints",
  inProgressJobOutput: "omit",
  rejectUnknownProperties: true,
  jobNameLowercase: true,
  badOperationSignatureStatus: 400,
  listOrder: "oldestFirst",
  unknownFilterQuoting: "badRequest",
  operationStatus: "standard",
};

/**
 * How long after the POST each action is submitted: its operation ends then (REAL for NEW: the
 * recorded operation ran 12 s, from startTime to endTime, and ended Succeeded with jobStatus
 * SUBMITTED). The job record lags by the stale window: IN_PROGRESS from staleWindowMs, the
 * result at staleWindowMs + this (GUESS). The others are a few seconds (GUESS). Virtual ms.
 */
export const DEFAULT_ACTION_DURATION_MS: Record<string, number> = {
  NEW: 12000,
  START: 8000,
  STOP: 6000,
  UPDATE: 10000,
  STATELESS_UPDATE: 8000,
  LAST_STATE_UPDATE: 8000,
  RE_LAUNCH: 8000,
  SAVEPOINT: 5000,
  LIST_SAVEPOINT: 2000,
  CANCEL: 3000,
  DELETE: 3000,
};

export interface ResolvedConfig {
  host: string;
  port: number;
  stateDir: string;
  timeScale: number;
  staleWindowMs: number;
  actionDurationMs: Record<string, number>;
  operationDurationMs: number | undefined;
  /** A refused action's operation (JobNotFound, Conflict) ends Failed this long after the POST (GUESS). */
  refusedOperationMs: number;
  pageSize: number;
  accessTokenLifetimeSec: number;
  oidcTokenLifetimeSec: number;
  guesses: Guesses;
}

export function resolveConfig(c: EmulatorConfig = {}): ResolvedConfig {
  const durations: Record<string, number> = { ...DEFAULT_ACTION_DURATION_MS };
  for (const [k, v] of Object.entries(c.actionDurationMs ?? {})) if (v !== undefined) durations[k.toUpperCase()] = v;
  const r: ResolvedConfig = {
    host: c.host ?? "127.0.0.1",
    port: c.port ?? 0,
    stateDir: c.stateDir ?? path.resolve(__dirname, "..", ".emulator"),
    timeScale: c.timeScale ?? 1,
    staleWindowMs: c.staleWindowMs ?? 2000,
    actionDurationMs: durations,
    operationDurationMs: c.operationDurationMs,
    refusedOperationMs: 1500,
    pageSize: c.pageSize ?? 50,
    accessTokenLifetimeSec: c.accessTokenLifetimeSec ?? 3600,
    oidcTokenLifetimeSec: c.oidcTokenLifetimeSec ?? 600,
    guesses: { ...DEFAULT_GUESSES, ...(c.guesses ?? {}) },
  };
  if (!(r.timeScale > 0)) throw new Error("timeScale must be > 0");
  if (!(Number.isInteger(r.pageSize) && r.pageSize > 0)) throw new Error("pageSize must be a positive integer");
  for (const [k, v] of Object.entries({ staleWindowMs: r.staleWindowMs, operationDurationMs: r.operationDurationMs ?? 0, ...durations }))
    if (!(v >= 0)) throw new Error(`${k} must be >= 0`);
  return r;
}
