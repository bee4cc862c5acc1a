/**
 * Every wait is observe → judge → verdict. The judges here are pure: they see one observation
 * and say whether the action is done, and how it ended. The JobID and trigger id of each action
 * are new, so nothing observed can be a stale answer from before the action.
 */
import type { CheckpointStats, CheckpointTriggerState, JobDetails, JobOverview, SnapshotPointer, TriggerObservation } from "./api";

export type Verdict<T> = { done: true; ok: true; value: T; seen: string } | { done: true; ok: false; failure: string; seen: string } | { done: false; seen: string };

/**
 * A job started by /run: healthy when RUNNING with every task RUNNING, from GET /jobs/:jobid (per
 * vertex) or GET /jobs/overview (per subtask); FAILED or CANCELED ends it.
 */
export function judgeStarted<J extends JobDetails | JobOverview>(job: J | undefined): Verdict<J> {
  if (!job) return { done: false, seen: "not yet listed by Flink" };
  const seen = describeDetails(job);
  const counts = taskCounts(job);
  if (job.state === "RUNNING" && counts && counts.total > 0 && (counts.byState.get("RUNNING") ?? 0) === counts.total) {
    return { done: true, ok: true, value: job, seen };
  }
  // A bounded job may finish before we look: it ran.
  if (job.state === "FINISHED") return { done: true, ok: true, value: job, seen };
  if (job.state === "FAILED") return { done: true, ok: false, failure: "the job FAILED", seen };
  // SUSPENDED: a JobManager failover; the job resumes under the next leader, so keep watching.
  if (job.state === "CANCELED") return { done: true, ok: false, failure: `the job ended ${job.state}`, seen };
  return { done: false, seen };
}

/** How many of the job's vertices (details) or subtasks (overview) are in each state; undefined when the overview lists no counts. */
function taskCounts(job: JobDetails | JobOverview): { total: number; byState: Map<string, number> } | undefined {
  const byState = new Map<string, number>();
  if ("vertices" in job) {
    for (const v of job.vertices) byState.set(v.status, (byState.get(v.status) ?? 0) + 1);
    return { total: job.vertices.length, byState };
  }
  if (!job.tasks) return undefined;
  for (const [state, n] of Object.entries(job.tasks)) if (state !== "total" && n > 0) byState.set(state.toUpperCase(), n);
  return { total: job.tasks["total"] ?? 0, byState };
}

/** A savepoint or stop trigger: IN_PROGRESS, then COMPLETED with a location or a failure cause. */
export function judgeTrigger(state: TriggerObservation): Verdict<string> {
  if (state.status === "IN_PROGRESS") return { done: false, seen: "savepoint IN_PROGRESS" };
  // Not known yet: the savepoint may still show in the job's statistics, or the job may end.
  if (state.status === "FORGOTTEN") return { done: false, seen: `Flink no longer knows the savepoint's trigger (a JobManager failover?); job ${state.jobState ?? "not listed"}` };
  if ("location" in state) return { done: true, ok: true, value: state.location, seen: `savepoint COMPLETED at ${state.location}` };
  return { done: true, ok: false, failure: state.failure, seen: "savepoint FAILED" };
}

/** A checkpoint we triggered: IN_PROGRESS, then its id, or Flink's reason it failed. */
export function judgeCheckpointTrigger(state: CheckpointTriggerState): Verdict<number> {
  if (state.status === "IN_PROGRESS") return { done: false, seen: "checkpoint IN_PROGRESS" };
  if ("checkpointId" in state) return { done: true, ok: true, value: state.checkpointId, seen: `checkpoint ${state.checkpointId} COMPLETED` };
  return { done: true, ok: false, failure: state.failure, seen: "checkpoint FAILED" };
}

/** A job we asked to end (cancel, stop): done once Flink lists it in an ended state. */
export function judgeEnded(state: string | undefined, expected: string): Verdict<string> {
  if (state === undefined) return { done: false, seen: "job not listed" };
  const seen = `job ${state}`;
  if (state === expected) return { done: true, ok: true, value: state, seen };
  if (state === "FAILED" || state === "CANCELED" || state === "FINISHED") return { done: true, ok: true, value: state, seen };
  return { done: false, seen };
}

/** FlinkJobStatus waitForStatus: the state, or a terminal state that can never become it. */
export function judgeStatus(state: string | undefined, wanted: string): Verdict<string> {
  if (state === undefined) return { done: false, seen: "job not listed" };
  const seen = `job ${state}`;
  if (state === wanted) return { done: true, ok: true, value: state, seen };
  if (["FAILED", "CANCELED", "FINISHED"].includes(state)) {
    return { done: true, ok: false, failure: `job ended ${state} and will never be ${wanted}`, seen };
  }
  return { done: false, seen };
}

/**
 * The newest snapshot a restart can restore from, by id (as the operator's last-state upgrade
 * chooses): the restored, completed and savepoint pointers of one execution.
 */
export function newestRestorePoint(stats: CheckpointStats | undefined): SnapshotPointer | undefined {
  if (!stats) return undefined;
  return [stats.latestRestored, stats.latestCompleted, stats.latestSavepoint]
    .filter((p): p is SnapshotPointer => p?.externalPath !== undefined && p.discarded !== true)
    .sort((a, b) => b.id - a.id)[0];
}

/** The savepoints Flink lists for one execution, newest first, without repeats. */
export function savepointsOf(stats: CheckpointStats | undefined): SnapshotPointer[] {
  if (!stats) return [];
  const all = [stats.latestSavepoint, ...stats.historySavepoints].filter((p): p is SnapshotPointer => p?.externalPath !== undefined);
  const seen = new Set<string>();
  return all
    .sort((a, b) => b.id - a.id)
    .filter((p) => (seen.has(p.externalPath!) ? false : (seen.add(p.externalPath!), true)));
}

export function describeDetails(job: JobDetails | JobOverview): string {
  const vertexText = [...(taskCounts(job)?.byState ?? [])].map(([s, n]) => `${n} ${s}`).join(", ");
  return `job ${job.state}${vertexText ? ` (tasks: ${vertexText})` : ""}`;
}
