import crypto from "node:crypto";
import type { Guesses } from "../config";
import type { JarStorage } from "./storage";

/**
 * Flink job records and what each runJob action does to them. Time is lazy: a record stores
 * when its pending action becomes visible and when it ends, and every read settles records up
 * to the virtual "now" (no timers). Sequence for one action, per the reference:
 *   postedAt ── stale window: record shows the previous result (NEW: no record yet)
 *   visibleAt ─ action=<new>, actionResult IN_PROGRESS
 *   doneAt ──── actionResult SUCCESS or FAILED, status/jobOutput/jobId/lastSavePoint updated
 */

export const ACTIONS_2023_06 = ["NEW", "UPDATE", "STATELESS_UPDATE", "STOP", "START", "CANCEL", "SAVEPOINT", "LIST_SAVEPOINT", "DELETE"] as const;
export const ACTIONS_2023_11 = [...ACTIONS_2023_06, "LAST_STATE_UPDATE", "RE_LAUNCH"] as const;
export type FlinkAction = (typeof ACTIONS_2023_11)[number];

/** REAL texts. */
export const RUNNING_OUTPUT = "Flink internal job status : RUNNING";
export const JAR_DOWNLOAD_FAILED_OUTPUT = "Job execution failed. \nFailed to download jar";

const ALL_STATUSES = ["RUNNING", "STOPPED", "CANCELED", "FAILED", "JOB_LAUNCH_FAILED", "STOP-FAILED"] as const;
const NOT_RUNNING = ALL_STATUSES.filter((s) => s !== "RUNNING");

/**
 * Statuses in which each action is valid (GUESS beyond the obvious: STOP/SAVEPOINT/CANCEL need a
 * running job, START needs one that is not running). Elsewhere the action is accepted and ends
 * FAILED with the reason in jobOutput. NEW creates a record and has no precondition.
 */
export function validStatuses(action: FlinkAction, guesses: Guesses): readonly string[] {
  switch (action) {
    case "NEW":
      return [];
    case "STOP":
    case "SAVEPOINT":
    case "CANCEL":
      return ["RUNNING"];
    case "START":
      return NOT_RUNNING;
    case "LAST_STATE_UPDATE":
      // Needs state from a job that has run at least once.
      return ALL_STATUSES.filter((s) => s !== "JOB_LAUNCH_FAILED");
    case "DELETE":
      return guesses.deleteRunningJob === "allow" ? ALL_STATUSES : NOT_RUNNING;
    case "UPDATE":
    case "STATELESS_UPDATE":
    case "RE_LAUNCH":
    case "LIST_SAVEPOINT":
      return ALL_STATUSES;
  }
}

export interface JobProperties {
  jobType: "FlinkJob";
  runId: string;
  jobName: string;
  jobJarDirectory?: string;
  jarName?: string;
  action?: string;
  entryClass?: string;
  args?: string;
  flinkConfiguration?: Record<string, string>;
  jobId?: string;
  status?: string;
  jobOutput?: string;
  actionResult?: string;
  lastSavePoint?: string;
}

export interface ActionRequest {
  action: FlinkAction;
  jobName?: string;
  runId?: string;
  jobJarDirectory?: string;
  jarName?: string;
  entryClass?: string;
  args?: string;
  savePointName?: string;
  flinkConfiguration?: Record<string, string>;
}

export interface ForcedFailure {
  jobOutput: string;
  jobStatus?: string;
  keepSavepoint?: boolean;
}

interface Pending {
  request: ActionRequest;
  /** Fault noResult: the record shows the action but never a status or result. */
  noResult?: boolean;
  postedAt: number;
  visibleAt: number;
  doneAt: number;
  forced?: ForcedFailure;
  crashAfterMs?: number;
}

export interface JobRecord {
  seq: number;
  runId: string;
  createdAt: number;
  /** Properties as of the last completed action (for a NEW in flight: the request). */
  props: JobProperties;
  savepoints: string[];
  /** False until the NEW that creates it becomes visible, and again once deleted. */
  born: boolean;
  deleted: boolean;
  pending?: Pending;
  crashAt?: number;
}

export interface SubmitOptions {
  now: number;
  staleWindowMs: number;
  durationMs: number;
  forced?: ForcedFailure;
  neverFinish?: boolean;
  noResult?: boolean;
  crashAfterMs?: number;
}

export type SubmitResult =
  | { kind: "accepted"; record: JobRecord }
  | { kind: "notFound"; message: string }
  | { kind: "conflict"; message: string };

export class JobStore {
  private records: JobRecord[] = [];
  private seq = 0;

  constructor(
    private readonly storage: JarStorage,
    private readonly guesses: Guesses,
    private readonly clusterName: string,
  ) {}

  /** Records the API would show now (settled, born, not deleted), oldest first. */
  visible(now: number): JobRecord[] {
    this.settle(now);
    return this.records.filter((r) => r.born && !r.deleted);
  }

  /** Finds the record a non-NEW action targets: the runId's, else the latest of that name. */
  findTarget(now: number, jobName: string | undefined, runId: string | undefined): JobRecord | undefined {
    this.settle(now);
    const live = this.records.filter((r) => !r.deleted);
    if (runId !== undefined) return live.find((r) => r.runId === runId && (jobName === undefined || r.props.jobName === jobName));
    for (let i = live.length - 1; i >= 0; i--) if (live[i]!.props.jobName === jobName) return live[i];
    return undefined;
  }

  runIdInUse(runId: string): boolean {
    return this.records.some((r) => r.runId === runId && !r.deleted);
  }

  submit(req: ActionRequest, o: SubmitOptions): SubmitResult {
    this.settle(o.now);
    const pending: Pending = {
      request: req,
      postedAt: o.now,
      visibleAt: o.now + o.staleWindowMs,
      doneAt: o.neverFinish || o.noResult ? Infinity : o.now + o.staleWindowMs + o.durationMs,
      ...(o.noResult ? { noResult: true } : {}),
      ...(o.forced ? { forced: o.forced } : {}),
      ...(o.crashAfterMs !== undefined ? { crashAfterMs: o.crashAfterMs } : {}),
    };
    if (req.action === "NEW") {
      const runId = req.runId ?? newRunId();
      const record: JobRecord = {
        seq: ++this.seq,
        runId,
        createdAt: o.now,
        props: stripUndefined({
          jobType: "FlinkJob",
          runId,
          jobName: req.jobName ?? "",
          jobJarDirectory: req.jobJarDirectory,
          jarName: req.jarName,
          action: "NEW",
          entryClass: req.entryClass,
          args: req.args,
          flinkConfiguration: req.flinkConfiguration,
        }),
        savepoints: [],
        born: false,
        deleted: false,
        pending,
      };
      this.records.push(record);
      return { kind: "accepted", record };
    }
    const target = this.findTarget(o.now, req.jobName, req.runId);
    if (!target) {
      const which = req.runId !== undefined ? `runId '${req.runId}'` : `name '${req.jobName ?? ""}'`;
      return { kind: "notFound", message: `No job with ${which} exists in cluster '${this.clusterName}'.` };
    }
    if (target.pending) {
      return {
        kind: "conflict",
        message: `Job '${target.props.jobName}' (runId ${target.runId}) already has action ${target.pending.request.action} in progress; ${req.action} cannot start until it finishes.`,
      };
    }
    target.pending = pending;
    return { kind: "accepted", record: target };
  }

  /** The record as GET …/jobs shows it at `now`, or undefined when hidden. */
  view(record: JobRecord, now: number): JobProperties | undefined {
    this.settleRecord(record, now);
    if (!record.born || record.deleted) return undefined;
    const p = record.pending;
    if (p?.noResult && now >= p.visibleAt) {
      // REAL (CLI recording): a NEW record listed with no status, actionResult, jobOutput or jobId.
      const bare: JobProperties = { ...record.props, action: p.request.action };
      for (const k of ["status", "actionResult", "jobOutput", "jobId"] as const) delete bare[k];
      return orderProps(bare);
    }
    if (p && now >= p.visibleAt) {
      const inProgress: JobProperties = { ...record.props, action: p.request.action, actionResult: "IN_PROGRESS" };
      if (this.guesses.inProgressJobOutput === "omit") delete inProgress.jobOutput;
      return orderProps(inProgress);
    }
    return orderProps({ ...record.props });
  }

  seed(props: Partial<JobProperties> & { jobName: string }, savepoints: string[] = []): JobRecord {
    const runId = props.runId ?? newRunId();
    const record: JobRecord = {
      seq: ++this.seq,
      runId,
      createdAt: 0,
      props: orderProps({ ...props, jobType: "FlinkJob", runId, jobName: props.jobName }),
      savepoints: [...savepoints],
      born: true,
      deleted: false,
    };
    if (props.lastSavePoint && !record.savepoints.includes(props.lastSavePoint)) record.savepoints.push(props.lastSavePoint);
    this.records.push(record);
    return record;
  }

  all(): JobRecord[] {
    return this.records;
  }

  private settle(now: number): void {
    for (const r of this.records) this.settleRecord(r, now);
  }

  private settleRecord(r: JobRecord, now: number): void {
    if (r.deleted) return;
    // Events in time order: the record becoming visible, a crash, the action ending.
    for (;;) {
      const p = r.pending;
      if (p && !r.born && now >= p.visibleAt) r.born = true;
      const crashDue = r.crashAt !== undefined && r.crashAt <= now ? r.crashAt : Infinity;
      const doneDue = p && p.doneAt <= now ? p.doneAt : Infinity;
      if (crashDue === Infinity && doneDue === Infinity) return;
      if (crashDue <= doneDue) {
        r.crashAt = undefined;
        if (r.props.status === "RUNNING") {
          r.props.status = "FAILED";
          r.props.jobOutput = "Flink internal job status : FAILED";
        }
      } else if (p) {
        r.pending = undefined;
        r.born = true;
        this.complete(r, p);
      }
    }
  }

  private complete(r: JobRecord, p: Pending): void {
    const req = p.request;
    const props = r.props;
    const status = props.status;
    props.action = req.action;
    const fail = (jobOutput: string, newStatus?: string): void => {
      props.actionResult = "FAILED";
      props.jobOutput = jobOutput;
      if (newStatus !== undefined) props.status = newStatus;
    };
    const succeed = (jobOutput: string): void => {
      props.actionResult = "SUCCESS";
      props.jobOutput = jobOutput;
    };
    const restart = (): void => {
      props.jobId = hex(32);
      props.status = "RUNNING";
      succeed(RUNNING_OUTPUT);
      if (p.crashAfterMs !== undefined) r.crashAt = p.doneAt + p.crashAfterMs;
    };

    if (p.forced) {
      if (p.forced.keepSavepoint && status === "RUNNING" && ["STOP", "SAVEPOINT", "UPDATE"].includes(req.action)) this.takeSavepoint(r);
      fail(p.forced.jobOutput, p.forced.jobStatus ?? (req.action === "NEW" ? "JOB_LAUNCH_FAILED" : undefined));
      return;
    }
    if (req.action !== "NEW") {
      const valid = validStatuses(req.action, this.guesses);
      if (!status || !valid.includes(status)) {
        fail(`Action ${req.action} is not allowed for job '${props.jobName}' in status ${status ?? "UNKNOWN"}; allowed in: ${valid.join(", ")}.`);
        return;
      }
    }
    switch (req.action) {
      case "NEW":
        if (!this.storage.has(props.jobJarDirectory, props.jarName)) {
          props.status = "JOB_LAUNCH_FAILED";
          fail(JAR_DOWNLOAD_FAILED_OUTPUT);
          return;
        }
        restart();
        return;
      case "STOP": {
        const path = this.takeSavepoint(r);
        props.status = "STOPPED";
        succeed(`Savepoint completed. Path: ${path}`);
        return;
      }
      case "SAVEPOINT": {
        const path = this.takeSavepoint(r);
        succeed(`Savepoint completed. Path: ${path}`);
        return;
      }
      case "LIST_SAVEPOINT":
        succeed(this.guesses.listSavepointFormat === "json" ? JSON.stringify(r.savepoints) : r.savepoints.join("\n"));
        return;
      case "CANCEL":
        props.status = this.guesses.cancelStatus;
        succeed(`Flink internal job status : ${this.guesses.cancelStatus}`);
        return;
      case "DELETE":
        if (this.guesses.deleteRemovesRecord) {
          r.deleted = true;
        } else {
          props.status = "DELETED";
          delete props.jobId;
          succeed("Job deleted.");
        }
        return;
      case "START":
      case "UPDATE":
      case "STATELESS_UPDATE":
      case "LAST_STATE_UPDATE":
      case "RE_LAUNCH": {
        // Which savepoint the restarted job restores from (only START/UPDATE choose one).
        if (req.action === "START" || req.action === "UPDATE") {
          if (req.savePointName !== undefined && req.savePointName !== "") {
            if (!this.resolveSavepoint(r, req.savePointName)) {
              fail(`Savepoint '${req.savePointName}' not found for job '${props.jobName}'.`);
              return;
            }
          } else if (req.action === "UPDATE" && status === "RUNNING") {
            this.takeSavepoint(r); // stateful upgrade: stop with savepoint, then restore from it
          }
        }
        if (req.action !== "START" && req.action !== "RE_LAUNCH") {
          for (const k of ["jobJarDirectory", "jarName", "entryClass", "args"] as const) if (req[k] !== undefined) props[k] = req[k];
          if (req.flinkConfiguration !== undefined) props.flinkConfiguration = req.flinkConfiguration;
        }
        if (!this.storage.has(props.jobJarDirectory, props.jarName)) {
          delete props.jobId;
          props.status = "JOB_LAUNCH_FAILED";
          fail(JAR_DOWNLOAD_FAILED_OUTPUT);
          return;
        }
        restart();
        return;
      }
    }
  }

  private takeSavepoint(r: JobRecord): string {
    const dir = (r.props.flinkConfiguration?.["savepoint.directory"] ?? this.guesses.defaultSavepointDirectory.replace("{cluster}", this.clusterName)).replace(/\/+$/, "");
    const path = `${dir}/savepoint-${(r.props.jobId ?? hex(32)).slice(0, 6)}-${hex(12)}`;
    r.savepoints.push(path);
    r.props.lastSavePoint = path;
    return path;
  }

  private resolveSavepoint(r: JobRecord, name: string): string | undefined {
    return r.savepoints.find((s) => s === name || s.slice(s.lastIndexOf("/") + 1) === name);
  }
}

export function hex(n: number): string {
  return crypto.randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
}

/**
 * REAL: job-c5d-4b48-abba-5ee598dbd653, job-9fe-4b53-bdd3-af47318a4507, job-d30-488a-91fd-4093b8cc0430:
 * "job-" and the last 26 characters of a version-4 GUID (…-4xxx-[89ab]xxx-xxxxxxxxxxxx).
 */
export function newRunId(): string {
  return `job-${crypto.randomUUID().slice(10)}`;
}

const ORDER: Array<keyof JobProperties> = [
  "jobType",
  "runId",
  "jobName",
  "jobJarDirectory",
  "jarName",
  "action",
  "entryClass",
  "args",
  "flinkConfiguration",
  "jobId",
  "status",
  "jobOutput",
  "actionResult",
  "lastSavePoint",
];

/** Property order as in the REAL record; unknown read-only fields left out. */
function orderProps(p: JobProperties): JobProperties {
  const out: Record<string, unknown> = {};
  for (const k of ORDER) if (p[k] !== undefined) out[k] = k === "flinkConfiguration" ? { ...p.flinkConfiguration } : p[k];
  return out as unknown as JobProperties;
}

function stripUndefined(p: JobProperties): JobProperties {
  return orderProps(p);
}
