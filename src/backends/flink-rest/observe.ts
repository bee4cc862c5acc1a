/**
 * Observe a job on a Flink session cluster into its record (src/jobs/record.ts), and the health
 * evidence the record and the health gate read. Nothing here acts on the cluster.
 */
import { JobStateError } from "../../errors";
import type { HealthNow, JobRecord, Snapshot } from "../../jobs/record";
import { atLeast, type FlinkApi, type FlinkVersion, isLive, type JarFile, type JobOverview, OLDEST_SUPPORTED } from "./api";
import { FlinkRestError } from "./client";
import { findExecutions, type JobSettings, jarRunBy, type RunsWhat, runsWhat } from "./identity";
import { describeDetails, newestRestorePoint, savepointsOf } from "./judge";

/** What a job's execution ran, complete enough to start it again as it ran. */
export interface RunnableVersion {
  jarId: string;
  settings: JobSettings;
  /** Undefined: the configuration was too long to keep with its jar. */
  configuration: Record<string, string> | undefined;
  /** What its executions' JobIDs carry. */
  runs: RunsWhat;
}

export interface ObservedJob {
  record: JobRecord;
  version: FlinkVersion;
  jars: JarFile[];
  /** The live execution, if any. */
  live?: JobOverview;
  /** The version the live (else the newest) execution ran, when it can be started again as it ran. */
  ran?: RunnableVersion;
}

/**
 * readJob: the cluster's Flink version (one we support, accepting jars), the job's executions, the
 * artifact and settings the live (else newest) execution runs as its own JobID says, its health
 * now, or (not live) the snapshot its last execution left.
 */
export async function readJob(api: FlinkApi, where: string, jobName: string, signal: AbortSignal, healthWindowMs: number): Promise<ObservedJob> {
  const config = await api.config(signal);
  if (!atLeast(config.version, OLDEST_SUPPORTED.major, OLDEST_SUPPORTED.minor)) {
    throw new JobStateError(`The cluster at ${where} runs Flink ${config.version.text}; these tasks need Flink ${OLDEST_SUPPORTED.major}.${OLDEST_SUPPORTED.minor} or later`);
  }
  const jars = config.webSubmit ? await api.listJars(signal) : undefined;
  if (!jars) throw new JobStateError(`The cluster at ${where} does not accept jars over REST (web submission is off, or it is an application cluster). Deploy to a session cluster with web submission enabled.`);
  const found = findExecutions(await api.jobsOverview(signal), jobName);
  const live = found.executions.find((e) => isLive(e.state));
  const current = live ?? found.executions[0];
  // What the execution runs, from its own JobID; its settings' values from the jar kept with that digest.
  const runs = current && found.ours ? runsWhat(current.jid) : undefined;
  const kept = current ? jarRunBy(jars, jobName, current.jid) : undefined;
  const ran: RunnableVersion | undefined =
    kept?.complete && runs ? { jarId: kept.id, settings: kept.settings, configuration: kept.configuration, runs: { jarSha256: kept.sha256!, settingsDigest: runs.settingsDigest } } : undefined;
  const record: JobRecord = {
    live: live !== undefined,
    job: { jobName, runId: "", ...(current ? { jobId: current.jid, jobStatus: current.state } : {}), ...(ran ? { jarId: ran.jarId } : {}) },
    rollbackPossible: live !== undefined && ran !== undefined,
    ...(runs ? { artifact: { sha256: runs.jarDigest, settings: runs.settingsDigest, ...(ran ? { location: ran.jarId } : {}) } } : {}),
  };
  if (live && kept && !kept.complete) {
    record.rollbackImpossibleBecause = `the settings execution ${live.jid} runs with were too long to keep with its jar ${kept.id}, so it cannot be started again as it ran`;
  } else if (live && !ran) {
    record.rollbackImpossibleBecause = `the cluster at ${where} no longer has the jar execution ${live.jid} runs (uploaded jars live on the JobManager's disk and are gone after it restarts, or the job was started outside these tasks)`;
  }
  if (live) record.health = await healthNow(api, live.jid, signal, healthWindowMs);
  else {
    const snapshot = await lastSnapshot(api, found.executions, signal);
    if (snapshot) record.lastSnapshot = snapshot;
  }
  return { record, version: config.version, jars, ...(live ? { live } : {}), ...(ran ? { ran } : {}) };
}

/** The live execution's health now: RUNNING, every task RUNNING, no failure in the last minute (or health-check window). */
export async function healthNow(api: FlinkApi, jobId: string, signal: AbortSignal, healthWindowMs: number): Promise<HealthNow> {
  const details = await api.jobDetails(jobId, signal);
  if (!details) return { healthy: false, evidence: `execution ${jobId} is no longer listed` };
  const seen = describeDetails(details);
  if (details.state !== "RUNNING" || !details.vertices.length || details.vertices.some((v) => v.status !== "RUNNING")) return { healthy: false, evidence: seen };
  const windowMs = Math.max(60_000, healthWindowMs);
  const recent = (await exceptionHistory(api, jobId, signal)).filter((e) => e.time > Date.now() - windowMs);
  if (recent.length) return { healthy: false, evidence: `${seen}; ${recent.length} failure(s) in the last ${Math.round(windowMs / 1000)} s (${[...new Set(recent.map((e) => e.name))].join(", ")})` };
  return { healthy: true, evidence: `${seen}, no failure in the last ${Math.round(windowMs / 1000)} s` };
}

/** The snapshot the job's ended executions left, newest execution first: a stop's savepoint, else a FAILED one's retained checkpoint; never a discarded one. */
export async function lastSnapshot(api: FlinkApi, executions: JobOverview[], signal: AbortSignal): Promise<Snapshot | undefined> {
  for (const exec of executions.slice(0, 5)) {
    // Read once final: an execution that ended a moment ago may be served from a graph cached before its last savepoint.
    const stats = await api.finalCheckpoints(exec.jid, signal, exec.endTime);
    const point = exec.state === "FAILED" ? newestRestorePoint(stats) : savepointsOf(stats)[0];
    if (point?.externalPath && !point.discarded) return { path: point.externalPath, kind: point.isSavepoint ? "savepoint" : "checkpoint", jobId: exec.jid };
  }
  return undefined;
}

/** Restarts since the job started: Flink's numRestarts metric, else the failures in its exception history. */
export async function restarts(api: FlinkApi, jobId: string, signal: AbortSignal): Promise<number> {
  const metric = await api.client.call({ method: "GET", path: `/jobs/${jobId}/metrics?get=numRestarts`, idempotent: true, signal: signal });
  const entry = Array.isArray(metric.data) ? (metric.data as Array<{ id?: unknown; value?: unknown }>).find((m) => m.id === "numRestarts") : undefined;
  if (entry && Number.isFinite(Number(entry.value))) return Number(entry.value);
  return (await exceptionHistory(api, jobId, signal)).length;
}

/** The failures in the job's exception history (newest 10), with their times. */
export async function exceptionHistory(api: FlinkApi, jobId: string, signal: AbortSignal): Promise<Array<{ name: string; time: number }>> {
  const answer = await api.client.call({ method: "GET", path: `/jobs/${jobId}/exceptions?maxExceptions=10`, idempotent: true, signal: signal });
  const history = (answer.data as { exceptionHistory?: { entries?: unknown[] } } | undefined)?.exceptionHistory?.entries;
  if (!Array.isArray(history)) return [];
  return history.map((e) => {
    const entry = e as { exceptionName?: unknown; timestamp?: unknown };
    return { name: typeof entry.exceptionName === "string" ? entry.exceptionName : "?", time: typeof entry.timestamp === "number" ? entry.timestamp : 0 };
  });
}

/** Whether the job checkpoints periodically. */
export async function checkpointingOn(api: FlinkApi, jobId: string, signal: AbortSignal): Promise<boolean> {
  try {
    const answer = await api.client.call({ method: "GET", path: `/jobs/${jobId}/checkpoints/config`, idempotent: true, signal: signal });
    const interval = (answer.data as { interval?: unknown } | undefined)?.interval;
    // Flink reports a disabled periodic checkpointing as Long.MAX_VALUE.
    return typeof interval === "number" && interval > 0 && interval < 9e18;
  } catch (error) {
    if (error instanceof FlinkRestError && (error.status === 404 || error.says("not enabled"))) return false;
    throw error;
  }
}

/** Whether a checkpoint completed after the execution started (or restored). */
export async function checkpointCompletedSince(api: FlinkApi, jobId: string, signal: AbortSignal): Promise<boolean> {
  const stats = await api.checkpoints(jobId, signal);
  const completed = stats?.latestCompleted;
  return completed !== undefined && (stats?.latestRestored === undefined || completed.id > stats.latestRestored.id);
}

/** What failed, in Flink's words: the state, the restarts, the newest exception. */
export async function failureReport(api: FlinkApi, jobId: string, what: string, signal: AbortSignal): Promise<string> {
  const [history, root] = await Promise.all([exceptionHistory(api, jobId, signal).catch(() => []), api.rootException(jobId, signal).catch(() => undefined)]);
  const names = [...new Set(history.map((h) => h.name))];
  return `${what} (JobID ${jobId})` + (history.length ? `; exception history: ${history.length}${history.length >= 10 ? "+" : ""} failure(s) (${names.join(", ")})` : "") + (root ? `; newest: ${root}` : "");
}
