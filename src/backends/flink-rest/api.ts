/**
 * The Flink REST calls the actions use, each answer checked for the shape Flink documents
 * (flink-rest-api.md §1). Request bodies are built per version: Flink's REST parser is strict and
 * refuses a field it does not know.
 */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { sleep } from "../../util/abort";
import { condense, FlinkRestClient, FlinkRestError } from "./client";

export interface FlinkVersion {
  major: number;
  minor: number;
  text: string;
}

export function parseFlinkVersion(text: string): FlinkVersion | undefined {
  const match = /^(\d+)\.(\d+)(?:[.-]|$)/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]), text: text.trim() } : undefined;
}

export function atLeast(version: FlinkVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** The oldest Flink whose /run takes a client-chosen jobId with restoreMode and 409 on cancel of an ended job. */
export const OLDEST_SUPPORTED = { major: 1, minor: 15 };

/** Flink's job states (org.apache.flink.api.common.JobStatus). */
export const JOB_STATES = ["INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED", "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING"] as const;
/**
 * The states an execution never leaves. SUSPENDED is not one: on an HA cluster it means the
 * JobManager lost leadership and the job resumes under the next leader (wait; never act beside it).
 */
export const TERMINAL_STATES = new Set(["FAILED", "CANCELED", "FINISHED"]);

export function isLive(state: string): boolean {
  return !TERMINAL_STATES.has(state);
}

export interface JobOverview {
  jid: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number;
  /** How many of the job's tasks (subtasks) are in each state, lower case, with "total"; Flink lists it in every version we support. */
  tasks?: Record<string, number>;
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  vertices: Array<{ name: string; status: string }>;
}

export interface SnapshotPointer {
  id: number;
  externalPath?: string;
  isSavepoint: boolean;
  timestamp?: number;
  /** Flink deleted its files (a checkpoint not retained past its job's end): nothing to restore from. */
  discarded?: boolean;
  /** Flink's checkpoint_type: SAVEPOINT (a trigger), SYNC_SAVEPOINT (stop with savepoint), CHECKPOINT, … */
  checkpointType?: string;
  /** Flink's savepointFormat: CANONICAL or NATIVE (savepoints only). */
  savepointFormat?: string;
}

export interface CheckpointStats {
  latestCompleted?: SnapshotPointer;
  latestSavepoint?: SnapshotPointer;
  latestRestored?: SnapshotPointer;
  /** Completed savepoints still listed in the history (web.checkpoints.history, 10 by default). */
  historySavepoints: SnapshotPointer[];
}

export type TriggerState = { status: "IN_PROGRESS" } | { status: "COMPLETED"; location: string } | { status: "COMPLETED"; failure: string };
export type CheckpointTriggerState = { status: "IN_PROGRESS" } | { status: "COMPLETED"; checkpointId: number } | { status: "COMPLETED"; failure: string };

/** A trigger the cluster no longer knows (a JobManager failover), with no savepoint of it listed yet. */
export type TriggerObservation = TriggerState | { status: "FORGOTTEN"; jobState?: string };

export interface JarFile {
  id: string;
  name: string;
  uploaded: number;
}

export interface RunSpec {
  jobId: string;
  entryClass?: string;
  args: string[];
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** Who owns the restored snapshot's files (default NO_CLAIM). */
  claimMode?: ClaimMode;
  flinkConfiguration: Record<string, string>;
}

/** Flink's RecoveryClaimMode (RestoreMode before 2.0): who owns a restored snapshot's files. */
export type ClaimMode = "CLAIM" | "NO_CLAIM";
/** Flink's SavepointFormatType. */
export type SavepointFormat = "CANONICAL" | "NATIVE";

/**
 * The `/jars/:id/run` body for this version: `programArgsList` always (the string form is gone in
 * 2.0), `claimMode` from 1.20 (`restoreMode` before), `flinkConfiguration` from 1.17 only.
 */
export function runRequestBody(version: FlinkVersion, spec: RunSpec): Record<string, unknown> {
  const body: Record<string, unknown> = { jobId: spec.jobId, programArgsList: spec.args };
  if (spec.entryClass) body["entryClass"] = spec.entryClass;
  if (spec.parallelism !== undefined) body["parallelism"] = spec.parallelism;
  if (spec.savepointPath) {
    body["savepointPath"] = spec.savepointPath;
    body["allowNonRestoredState"] = spec.allowNonRestoredState ?? false;
    // NO_CLAIM by default: Flink does not take ownership, so the same savepoint can serve a rollback.
    body[atLeast(version, 1, 20) ? "claimMode" : "restoreMode"] = spec.claimMode ?? "NO_CLAIM";
  }
  if (Object.keys(spec.flinkConfiguration).length) {
    if (!atLeast(version, 1, 17)) {
      throw new Error(`Flink ${version.text} does not accept per-job configuration on /jars/:jarid/run (Flink 1.17 or later does); clear 'flinkConfiguration'`);
    }
    body["flinkConfiguration"] = spec.flinkConfiguration;
  }
  return body;
}

/** Flink's key for the default savepoint directory in this version. */
export function savepointDirKey(version: FlinkVersion): string {
  return atLeast(version, 1, 20) ? "execution.checkpointing.savepoint-dir" : "state.savepoints.dir";
}

/** A fresh trigger id: Flink dedups a retried trigger with the same id while it keeps the result. */
export function newTriggerId(): string {
  return randomBytes(16).toString("hex");
}

const HEX32 = /^[0-9a-f]{32}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === "string";
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Flink's default web.refresh-interval: how long its REST handlers may serve a cached execution graph. */
const DEFAULT_REFRESH_INTERVAL_MS = 3_000;

export class FlinkApi {
  /** From GET /config ("refresh-interval"), once read. */
  private refreshIntervalMs: number | undefined;

  constructor(readonly client: FlinkRestClient) {}

  /** GET /config: the version, and whether the dashboard claims web submission. */
  async config(signal?: AbortSignal): Promise<{ version: FlinkVersion; webSubmit: boolean }> {
    const config = await this.client.json({ method: "GET", path: "/config", idempotent: true, signal }, (d) => {
      if (!isObject(d) || !str(d["flink-version"]) || !isObject(d["features"])) return undefined;
      const version = parseFlinkVersion(d["flink-version"]);
      return version ? { version, webSubmit: d["features"]["web-submit"] !== false, refreshMs: num(d["refresh-interval"]) ? d["refresh-interval"] : undefined } : undefined;
    });
    if (config.refreshMs !== undefined) this.refreshIntervalMs = config.refreshMs;
    return { version: config.version, webSubmit: config.webSubmit };
  }

  /**
   * The checkpoint statistics of a job that has ended, read once they are final. Flink's REST
   * handlers serve the execution graph from a cache refreshed every web.refresh-interval, so a
   * read right after the end may still name a checkpoint that a later one has since subsumed and
   * deleted (seen on 2.3: the restore then fails with "Cannot find checkpoint or savepoint").
   */
  async finalCheckpoints(jobId: string, signal?: AbortSignal, endedAt?: number): Promise<CheckpointStats | undefined> {
    const settle = Math.min(this.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS, 10_000) + 500;
    // A job that ended (endTime, the JobManager's clock) longer ago than that is read from a graph cached after its end.
    const waited = endedAt !== undefined && endedAt > 0 ? Math.max(0, Date.now() - endedAt) : 0;
    if (waited < settle) await sleep(settle - waited, signal);
    return this.checkpoints(jobId, signal);
  }

  /** GET /jobmanager/config: the cluster's configuration, key → value. */
  clusterConfig(signal?: AbortSignal): Promise<Record<string, string>> {
    return this.client.json({ method: "GET", path: "/jobmanager/config", idempotent: true, signal }, (d) => {
      if (!Array.isArray(d) || !d.every((e) => isObject(e) && str(e["key"]))) return undefined;
      return Object.fromEntries((d as Array<{ key: string; value: unknown }>).map((e) => [e.key, String(e.value ?? "")]));
    });
  }

  /** GET /jars. undefined when the cluster serves no /jars (web submission disabled, or an application cluster). */
  async listJars(signal?: AbortSignal): Promise<JarFile[] | undefined> {
    try {
      return await this.client.json({ method: "GET", path: "/jars", idempotent: true, signal }, (d) => {
        if (!isObject(d) || !Array.isArray(d["files"])) return undefined;
        const files = d["files"] as unknown[];
        if (!files.every((f) => isObject(f) && str(f["id"]) && str(f["name"]) && num(f["uploaded"]))) return undefined;
        return (files as Array<Record<string, unknown>>).map((f) => ({ id: f["id"] as string, name: f["name"] as string, uploaded: f["uploaded"] as number }));
      });
    } catch (error) {
      if (error instanceof FlinkRestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** POST /jars/upload (multipart, part `jarfile`) → the jar id (the stored file's name). */
  async uploadJar(file: Blob, name: string, signal?: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append("jarfile", file, name);
    const filename = await this.client.json({ method: "POST", path: "/jars/upload", form, idempotent: false, signal }, (d) =>
      isObject(d) && d["status"] === "success" && str(d["filename"]) ? d["filename"] : undefined,
    );
    return path.posix.basename(filename.replace(/\\/g, "/"));
  }

  /** POST /jars/:jarid/run → the job's id (ours: the body carries the id we chose). */
  run(jarId: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    return this.client.json({ method: "POST", path: `/jars/${encodeURIComponent(jarId)}/run`, body, idempotent: false, signal }, (d) =>
      isObject(d) && str(d["jobid"]) && HEX32.test(d["jobid"]) ? d["jobid"] : undefined,
    );
  }

  async deleteJar(jarId: string, signal?: AbortSignal): Promise<void> {
    await this.client.call({ method: "DELETE", path: `/jars/${encodeURIComponent(jarId)}`, idempotent: true, signal });
  }

  /** GET /jobs/overview: every job the cluster still knows (running, and ended ones within the job store's expiry). */
  jobsOverview(signal?: AbortSignal): Promise<JobOverview[]> {
    return this.client.json({ method: "GET", path: "/jobs/overview", idempotent: true, signal }, (d) => {
      if (!isObject(d) || !Array.isArray(d["jobs"])) return undefined;
      const jobs: JobOverview[] = [];
      for (const j of d["jobs"] as unknown[]) {
        if (!isObject(j) || !str(j["jid"]) || !HEX32.test(j["jid"]) || !str(j["name"]) || !str(j["state"]) || !num(j["start-time"])) return undefined;
        const tasks = j["tasks"];
        if (tasks !== undefined && (!isObject(tasks) || !Object.values(tasks).every(num))) return undefined;
        jobs.push({
          jid: j["jid"],
          name: j["name"],
          state: j["state"],
          startTime: j["start-time"],
          endTime: num(j["end-time"]) ? j["end-time"] : -1,
          ...(tasks ? { tasks: tasks as Record<string, number> } : {}),
        });
      }
      return jobs;
    });
  }

  /**
   * The job's entry in GET /jobs/overview; undefined when Flink does not list it. What a wait
   * watches: Flink answers the overview from the running jobs themselves, where GET /jobs/:jobid
   * may serve an execution graph cached for web.refresh-interval (3 s by default) and so see a
   * job RUNNING or ended that long after it is.
   */
  async jobOverview(jobId: string, signal?: AbortSignal): Promise<JobOverview | undefined> {
    return (await this.jobsOverview(signal)).find((j) => j.jid === jobId);
  }

  /** GET /jobs/:jobid; undefined when Flink does not know the id. */
  async jobDetails(jobId: string, signal?: AbortSignal): Promise<JobDetails | undefined> {
    try {
      return await this.client.json({ method: "GET", path: `/jobs/${jobId}`, idempotent: true, signal }, (d) => {
        if (!isObject(d) || d["jid"] !== jobId || !str(d["name"]) || !str(d["state"]) || !Array.isArray(d["vertices"])) return undefined;
        const vertices = (d["vertices"] as unknown[]).map((v) => (isObject(v) && str(v["status"]) ? { name: str(v["name"]) ? v["name"] : "?", status: v["status"] } : undefined));
        if (vertices.some((v) => v === undefined)) return undefined;
        return { jid: jobId, name: d["name"], state: d["state"], vertices: vertices as JobDetails["vertices"] };
      });
    } catch (error) {
      if (error instanceof FlinkRestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The newest entry of the job's exception history, condensed to its message and causes. */
  async rootException(jobId: string, signal?: AbortSignal): Promise<string | undefined> {
    const answer = await this.client.call({ method: "GET", path: `/jobs/${jobId}/exceptions?maxExceptions=1`, idempotent: true, signal });
    const d = answer.data;
    if (!isObject(d)) return undefined;
    const history = d["exceptionHistory"];
    const entry = isObject(history) && Array.isArray(history["entries"]) ? (history["entries"] as unknown[])[0] : undefined;
    if (isObject(entry) && str(entry["stacktrace"])) return condense(entry["stacktrace"]);
    return str(d["root-exception"]) ? condense(d["root-exception"]) : undefined;
  }

  /** GET /jobs/:jobid/checkpoints, read leniently as the operator does; undefined when the job is unknown. */
  async checkpoints(jobId: string, signal?: AbortSignal): Promise<CheckpointStats | undefined> {
    let data: unknown;
    try {
      data = (await this.client.call({ method: "GET", path: `/jobs/${jobId}/checkpoints`, idempotent: true, signal })).data;
    } catch (error) {
      if (error instanceof FlinkRestError && error.status === 404) return undefined;
      throw error;
    }
    if (!isObject(data) || !isObject(data["latest"]) || !Array.isArray(data["history"])) {
      throw new FlinkRestError(200, "GET", `/jobs/${jobId}/checkpoints`, ["the answer has no 'latest' and 'history': not Flink's checkpoint statistics"]);
    }
    const latest = data["latest"];
    const pointer = (v: unknown, isSavepoint?: boolean): SnapshotPointer | undefined => {
      // A snapshot Flink has discarded (DELETE_ON_CANCELLATION, subsumed) is gone from storage: never a restore point.
      if (!isObject(v) || !num(v["id"]) || v["discarded"] === true) return undefined;
      const p: SnapshotPointer = { id: v["id"], isSavepoint: isSavepoint ?? v["is_savepoint"] === true };
      if (str(v["external_path"]) && v["external_path"] !== "<checkpoint-not-externally-addressable>") p.externalPath = v["external_path"];
      const ts = v["latest_ack_timestamp"] ?? v["restore_timestamp"];
      if (num(ts)) p.timestamp = ts;
      if (v["discarded"] === true) p.discarded = true;
      if (str(v["checkpoint_type"])) p.checkpointType = v["checkpoint_type"];
      if (str(v["savepointFormat"])) p.savepointFormat = v["savepointFormat"];
      return p;
    };
    const stats: CheckpointStats = { historySavepoints: [] };
    const completed = pointer(latest["completed"], false);
    const savepoint = pointer(latest["savepoint"], true);
    const restored = pointer(latest["restored"]);
    if (completed) stats.latestCompleted = completed;
    if (savepoint) stats.latestSavepoint = savepoint;
    if (restored) stats.latestRestored = restored;
    for (const item of data["history"] as unknown[]) {
      if (isObject(item) && item["is_savepoint"] === true && item["status"] === "COMPLETED" && item["discarded"] !== true) {
        const p = pointer(item, true);
        if (p?.externalPath) stats.historySavepoints.push(p);
      }
    }
    return stats;
  }

  /** Whether the job's checkpoints outlive a cancel (RETAIN_ON_CANCELLATION); undefined when Flink does not say. */
  async checkpointsRetainedOnCancel(jobId: string, signal?: AbortSignal): Promise<boolean | undefined> {
    const d = (await this.client.call({ method: "GET", path: `/jobs/${jobId}/checkpoints/config`, idempotent: true, signal })).data;
    const ext = isObject(d) ? d["externalization"] : undefined;
    if (!isObject(ext) || typeof ext["enabled"] !== "boolean") return undefined;
    return ext["enabled"] === true && ext["delete_on_cancellation"] === false;
  }

  /** POST /jobs/:jobid/stop (stop with savepoint, no drain) → the trigger id. A retry with the same trigger id is safe. */
  stopWithSavepoint(jobId: string, targetDirectory: string | undefined, triggerId: string, signal?: AbortSignal, formatType?: SavepointFormat): Promise<string> {
    const body: Record<string, unknown> = { drain: false, triggerId };
    if (formatType) body["formatType"] = formatType;
    if (targetDirectory) body["targetDirectory"] = targetDirectory;
    return this.trigger(`/jobs/${jobId}/stop`, body, signal);
  }

  /** POST /jobs/:jobid/savepoints → the trigger id. */
  triggerSavepoint(jobId: string, targetDirectory: string | undefined, triggerId: string, signal?: AbortSignal, formatType?: SavepointFormat): Promise<string> {
    const body: Record<string, unknown> = { "cancel-job": false, triggerId };
    if (formatType) body["formatType"] = formatType;
    if (targetDirectory) body["target-directory"] = targetDirectory;
    return this.trigger(`/jobs/${jobId}/savepoints`, body, signal);
  }

  private trigger(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    // Idempotent: Flink answers a repeated triggerId with the same operation.
    return this.client.json({ method: "POST", path, body, idempotent: true, signal }, (d) => (isObject(d) && str(d["request-id"]) ? d["request-id"] : undefined));
  }

  /** GET /jobs/:jobid/savepoints/:triggerid (stop and savepoint alike). */
  savepointStatus(jobId: string, triggerId: string, signal?: AbortSignal): Promise<TriggerState> {
    return this.client.json({ method: "GET", path: `/jobs/${jobId}/savepoints/${triggerId}`, idempotent: true, signal }, parseTriggerState);
  }

  /**
   * A savepoint or stop trigger, observed across a JobManager failover: the new leader does not
   * know the old one's trigger ids (404), so the savepoint is then read from the job's checkpoint
   * statistics: one completed since the trigger was sent is its result.
   */
  async observeTrigger(jobId: string, triggerId: string, sentAt: number, signal?: AbortSignal): Promise<TriggerObservation> {
    try {
      return await this.savepointStatus(jobId, triggerId, signal);
    } catch (error) {
      if (!(error instanceof FlinkRestError && error.status === 404)) throw error;
    }
    const [stats, details] = await Promise.all([this.checkpoints(jobId, signal), this.jobDetails(jobId, signal)]);
    const savepoint = stats?.latestSavepoint;
    if (savepoint?.externalPath && (savepoint.timestamp ?? 0) >= sentAt) return { status: "COMPLETED", location: savepoint.externalPath };
    return { status: "FORGOTTEN", ...(details ? { jobState: details.state } : {}) };
  }

  /** POST /savepoint-disposal → the trigger id. Not idempotent: a second disposal of a removed savepoint fails. */
  disposeSavepoint(savepointPath: string, signal?: AbortSignal): Promise<string> {
    return this.client.json({ method: "POST", path: "/savepoint-disposal", body: { "savepoint-path": savepointPath }, idempotent: false, signal }, (d) =>
      isObject(d) && str(d["request-id"]) ? d["request-id"] : undefined,
    );
  }

  /** GET /savepoint-disposal/:triggerid: IN_PROGRESS, done, or the failure Flink recorded. */
  disposalStatus(triggerId: string, signal?: AbortSignal): Promise<{ status: "IN_PROGRESS" } | { status: "COMPLETED"; failure?: string }> {
    return this.client.json({ method: "GET", path: `/savepoint-disposal/${triggerId}`, idempotent: true, signal }, (d) => {
      if (!isObject(d) || !isObject(d["status"])) return undefined;
      if (d["status"]["id"] === "IN_PROGRESS") return { status: "IN_PROGRESS" as const };
      if (d["status"]["id"] !== "COMPLETED") return undefined;
      const op = d["operation"];
      if (isObject(op) && isObject(op["failure-cause"])) return { status: "COMPLETED" as const, failure: describeThrowable(op["failure-cause"]) };
      return { status: "COMPLETED" as const };
    });
  }

  /** POST /jobs/:jobid/checkpoints (Flink 1.17+): a checkpoint now, of the job's configured kind → the trigger id. */
  triggerCheckpoint(jobId: string, triggerId: string, signal?: AbortSignal): Promise<string> {
    return this.trigger(`/jobs/${jobId}/checkpoints`, { checkpointType: "CONFIGURED", triggerId }, signal);
  }

  /** GET /jobs/:jobid/checkpoints/:triggerid: IN_PROGRESS, then the checkpoint's id or why it failed. */
  checkpointStatus(jobId: string, triggerId: string, signal?: AbortSignal): Promise<CheckpointTriggerState> {
    return this.client.json({ method: "GET", path: `/jobs/${jobId}/checkpoints/${triggerId}`, idempotent: true, signal }, (d) => {
      if (!isObject(d) || !isObject(d["status"])) return undefined;
      if (d["status"]["id"] === "IN_PROGRESS") return { status: "IN_PROGRESS" } as const;
      const op = d["operation"];
      if (d["status"]["id"] !== "COMPLETED" || !isObject(op)) return undefined;
      if (num(op["checkpointId"])) return { status: "COMPLETED", checkpointId: op["checkpointId"] } as const;
      if (isObject(op["failure-cause"])) return { status: "COMPLETED", failure: describeThrowable(op["failure-cause"]) } as const;
      return undefined;
    });
  }

  /** PATCH /jobs/:jobid?mode=cancel. 409: the job had already ended. */
  async cancel(jobId: string, signal?: AbortSignal): Promise<"accepted" | "already-ended"> {
    try {
      await this.client.call({ method: "PATCH", path: `/jobs/${jobId}?mode=cancel`, idempotent: true, signal });
      return "accepted";
    } catch (error) {
      if (error instanceof FlinkRestError && (error.status === 409 || error.says("already reached another terminal state"))) return "already-ended";
      throw error;
    }
  }
}

/** The answer of a savepoint or stop trigger; success and failure are both COMPLETED. */
export function parseTriggerState(d: unknown): TriggerState | undefined {
  if (!isObject(d) || !isObject(d["status"])) return undefined;
  const id = d["status"]["id"];
  if (id === "IN_PROGRESS") return { status: "IN_PROGRESS" };
  if (id !== "COMPLETED" || !isObject(d["operation"])) return undefined;
  const op = d["operation"];
  if (str(op["location"])) return { status: "COMPLETED", location: op["location"] };
  if (isObject(op["failure-cause"])) return { status: "COMPLETED", failure: describeThrowable(op["failure-cause"]) };
  return undefined;
}

/** A SerializedThrowable as JSON (`class`, `stack-trace`, newer: `message`): its message and causes. */
export function describeThrowable(t: Record<string, unknown>): string {
  if (str(t["stack-trace"])) return condense(t["stack-trace"]);
  if (str(t["message"])) return `${str(t["class"]) ? `${t["class"]}: ` : ""}${t["message"]}`;
  return str(t["class"]) ? t["class"] : "(Flink gave no cause)";
}
