/**
 * Every wait is observe → judge → verdict. The judges here are pure: they see one observation
 * and say whether the action is done, and how it ended. The JobID and trigger id of each action
 * are new, so nothing observed can be a stale answer from before the action.
 */
import type { CheckpointStats, CheckpointTriggerState, JobDetails, SnapshotPointer, TriggerObservation } from "./api";

export type Verdict<T> = { done: true; ok: true; value: T; seen: string } | { done: true; ok: false; failure: string; seen: string } | { done: false; seen: string };

/** A job started by /run: healthy when RUNNING with every vertex RUNNING; FAILED or CANCELED ends it. */
export function judgeStarted(details: JobDetails | undefined): Verdict<JobDetails> {
  if (!details) return { done: false, seen: "not yet listed by Flink" };
  const seen = describeDetails(details);
  if (details.state === "RUNNING" && details.vertices.length > 0 && details.vertices.every((v) => v.status === "RUNNING")) {
    return { done: true, ok: true, value: details, seen };
  }
  // A bounded job may finish before we look: it ran.
  if (details.state === "FINISHED") return { done: true, ok: true, value: details, seen };
  if (details.state === "FAILED") return { done: true, ok: false, failure: "the job FAILED", seen };
  // SUSPENDED: a JobManager failover; the job resumes under the next leader, so keep watching.
  if (details.state === "CANCELED") return { done: true, ok: false, failure: `the job ended ${details.state}`, seen };
  return { done: false, seen };
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
    .filter((p): p is SnapshotPointer => p?.externalPath !== undefined)
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

export function describeDetails(details: JobDetails): string {
  const counts = new Map<string, number>();
  for (const v of details.vertices) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
  const vertexText = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
  return `job ${details.state}${vertexText ? ` (tasks: ${vertexText})` : ""}`;
}
