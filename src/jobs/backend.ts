/**
 * The seam between the one flow every task shares (validate → connect → act → wait → report) and
 * the kinds of cluster it can drive. The flow knows only what is in this file; each backend keeps
 * its wire format, its judgement of "is it done?" and its own inputs in `src/backends/<name>/`.
 *
 * The action vocabulary is the HDInsight runJob one (NEW, STOP, START, …): the task contract is
 * written in it, and every backend maps it onto its own calls.
 */
import type { PipelineHost } from "../pipeline/host";
import type { Logger } from "../util/logger";
import type { DeployInputs, DeployOutcome } from "./deploy";

export const TARGETS = ["hdinsightAks", "flinkRest"] as const;
export type Target = (typeof TARGETS)[number];
export const DEFAULT_TARGET: Target = "hdinsightAks";

export type JobAction =
  | "NEW"
  | "STOP"
  | "START"
  | "UPDATE"
  | "STATELESS_UPDATE"
  | "LAST_STATE_UPDATE"
  | "RE_LAUNCH"
  | "SAVEPOINT"
  | "LIST_SAVEPOINT"
  | "DISPOSE_SAVEPOINT"
  | "PRUNE_SAVEPOINTS"
  | "CANCEL"
  | "DELETE";

export type ActionResult = "SUCCESS" | "FAILED" | "IN_PROGRESS";

/** A job as the output variables show it. Each backend fills what its cluster tells. */
export interface JobView {
  jobName: string;
  /** Flink's 32-hex JobID. */
  jobId?: string;
  /** HDInsight's run id (api-version 2023-11-01-preview on); "" where the API has none. */
  runId?: string;
  /** The cluster's own word for the job's state (HDInsight: RUNNING, STOPPED…; Flink: RUNNING, FINISHED…). */
  jobStatus?: string;
  /** The cluster's text about the last action. */
  jobOutput?: string;
  lastSavepoint?: string;
  /** Flink REST: the id of the jar the job runs from, as `/jars` lists it. */
  jarId?: string;
}

/** What one action came to. Outputs and the step's result are built from this alone. */
export interface ActionOutcome {
  actionResult: ActionResult;
  /** The job after the action (absent after a DELETE). */
  job?: JobView;
  /** STOP and SAVEPOINT: the savepoint this action wrote (also on a failed stop that wrote one). */
  savepointPath?: string;
  /** LIST_SAVEPOINT: every savepoint found, newest first; PRUNE_SAVEPOINTS: those kept. */
  savepoints?: SavepointEntry[];
  /** FAILED: what the cluster said, in its own words (jobOutput, failure-cause, exception history). */
  failure?: string;
  /** The service's id for the request that carried the action, for support cases. */
  requestId?: string;
  /** Lines for the run summary and the log: what was seen and decided (health evidence, the plan). */
  notes?: string[];
}

/** One savepoint of the `savepoints` output; null where the cluster does not tell. */
export interface SavepointEntry {
  path: string;
  /** When it completed (ISO 8601). */
  time: string | null;
  /** The action that wrote it: trigger, stop, update or deploy. */
  origin: "trigger" | "stop" | "update" | "deploy" | null;
  /** The execution it was taken of. */
  jobId: string | null;
  /** Whether the live execution restored from it. */
  restoredByLive: boolean | null;
}

/** FlinkJobStatus: one job (when named) and every record read. */
export interface StatusOutcome {
  job?: JobView;
  /** The result of the job's last action, where the cluster tells it (HDInsight's actionResult). */
  actionResult?: string;
  /** Whatever the backend lists per job, as plain JSON objects (the `jobs` output). */
  jobs: object[];
}

/** How long and how often to wait; what to tell on the way. */
export interface WaitOptions {
  /** Aborted when the pipeline is cancelled. */
  signal?: AbortSignal;
  /** The whole action's budget, pre-checks and POST included. */
  timeoutMs: number;
  /** false: return IN_PROGRESS as soon as the cluster has accepted the action. */
  waitForCompletion: boolean;
  /** The longest gap between two reads. */
  maxPollIntervalMs: number;
  logger: Logger;
  /** Each read of a wait: the state seen and what the wait awaits (src/jobs/progress.ts shows some of them). */
  onProgress?: (seen: string, awaiting?: string) => void;
}

/** Reads one input's raw value (undefined when not set). */
export type RawInputs = (name: string) => string | undefined;

/** The inputs every task has whatever the target, checked by the flow before the backend's own. */
export interface CommonInputs {
  target: Target;
  /** Absent only for FlinkJobStatus reading every job. */
  jobName?: string;
  /** Absent for FlinkJobStatus. */
  action?: JobAction;
  /** The input that chose the action (startMode, upgradeMode, operation), for messages about it. */
  actionInput?: string;
  /** FlinkJobDeploy: `action` (NEW) stands for the job definition a deployment runs; the jar is `jarFile`. */
  deploy?: true;
  /** FlinkJobStatus: keep reading until the job has this status. */
  waitForStatus?: string;
  waitForCompletion: boolean;
  timeoutMs: number;
  maxPollIntervalMs: number;
}

/** One action on one job, with the target's own inputs, already validated. */
export interface BackendRequest<Inputs> {
  action: JobAction;
  jobName: string;
  inputs: Inputs;
}

/** A kind of cluster, connected and ready to act on one job or read jobs. */
export interface Backend<Inputs> {
  readonly target: Target;
  /** Where the jobs live, as rows for the log and the run summary (label, value). */
  describe(): Array<[string, string]>;
  act(request: BackendRequest<Inputs>, options: WaitOptions): Promise<ActionOutcome>;
  readStatus(query: { jobName?: string; waitForStatus?: string }, options: WaitOptions): Promise<StatusOutcome>;
  /**
   * FlinkJobDeploy, on targets that support it: the backend builds its DeployTarget and runs
   * src/jobs/deploy.ts. `inputs` were validated for NEW (jar and job definition).
   */
  deploy?(request: DeployRequest<Inputs>, options: WaitOptions): Promise<DeployOutcome>;
  /**
   * Facts about the job for the run summary, read after the action (links to the cluster's UI, the
   * job's executions). A courtesy: the flow bounds it in time and ignores its failure.
   */
  summaryFacts?(job: { jobName?: string; jobId?: string; jobStatus?: string }, signal: AbortSignal): Promise<SummaryFacts>;
  /** Releases sockets and agents; the flow calls it once, whatever happened. */
  close(): void;
}

/** One execution of a job as its cluster shows it, for the run summary. */
export interface ExecutionFacts {
  jobId: string;
  /** The name the cluster shows (Flink: the jar's own name for its job may differ from jobName). */
  name: string;
  state: string;
  startTime?: number;
  endTime?: number;
  /** Completed savepoints the cluster still lists for this execution. */
  savepoints?: number;
  /** The snapshot this execution restored from. */
  restoredFrom?: string;
  /** A link to this execution in the cluster's web UI. */
  link?: string;
}

/** What the run summary shows beyond the outputs. */
export interface SummaryFacts {
  /** Links a reader opens: (label, URL). */
  links: Array<[string, string]>;
  /** The job's executions, newest first (a few). */
  executions?: ExecutionFacts[];
  /** How the tasks found the job on the cluster, in a sentence. */
  foundBy?: string;
}

/** FlinkJobDeploy's request: the job, the target's inputs, and Deploy's own. */
export interface DeployRequest<Inputs> {
  jobName: string;
  inputs: Inputs;
  deploy: DeployInputs;
}

/** What the flow's table maps a `target` to. */
export interface BackendModule<Inputs> {
  readonly target: Target;
  /** Its backends implement `deploy` (FlinkJobDeploy); checked before any input of the target is read. */
  readonly deploys?: true;
  /**
   * Reads and checks this target's own inputs (its connection input, cluster and job-definition
   * inputs) for the action; throws InputError naming the input. No network call.
   */
  validate(common: CommonInputs, raw: RawInputs): Inputs;
  /** Reads the service connection and builds the client. No network call yet. */
  connect(host: PipelineHost, common: CommonInputs, inputs: Inputs): Backend<Inputs>;
}
