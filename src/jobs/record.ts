/**
 * One record of a job, read from the cluster before every decision (architecture-sketch.md, "one
 * record of the job"): the live execution, the artifact *that execution* runs, the settings it
 * runs with, the last good snapshot and health evidence. Each backend fills it in its `read()`;
 * src/jobs/decide.ts decides from it alone.
 */
import type { JobView } from "./backend";

/** What one execution runs: identified by the execution itself (e.g. a digest inside its JobID), never by "the newest upload". */
export interface Artifact {
  /** SHA-256 of the jar (hex), or its leading hex digits when only a digest of it is tied to the execution. */
  sha256?: string;
  /** The comparable text (or digest) of the settings the execution was started with. */
  settings?: string;
  /** Where the jar is kept on the cluster (flinkRest: jar id; hdinsightAks: blob path), when it still is. */
  location?: string;
}

/** A savepoint or retained checkpoint a new execution can restore from (never a discarded one). */
export interface Snapshot {
  path: string;
  kind: "savepoint" | "checkpoint";
  /** The execution that wrote it. */
  jobId?: string;
}

/** What the cluster shows about the live execution's health now. */
export interface HealthNow {
  healthy: boolean;
  /** What was seen, in words (state, tasks, restarts, newest exception). */
  evidence: string;
}

export interface JobRecord {
  /** The newest execution (live or ended), as the outputs show it. */
  job: JobView;
  /** A live execution (running, restarting, …): there is something to stop or upgrade. */
  live: boolean;
  /** The artifact and settings the live execution (else the newest one) runs. */
  artifact?: Artifact;
  /** Whether the live execution passes the health check now (absent: not live). */
  health?: HealthNow;
  /** Not live: the snapshot its last execution ended with (a stop's savepoint, a FAILED job's newest restorable checkpoint). */
  lastSnapshot?: Snapshot;
  /** Whether the live execution's artifact can be started again (its jar and settings are still on the cluster). */
  rollbackPossible: boolean;
  /** Why not, when it cannot. */
  rollbackImpossibleBecause?: string;
}
