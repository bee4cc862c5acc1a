import type { ActionOutcome, JobView, StatusOutcome } from "../jobs/backend";
import type { DeployOutcome } from "../jobs/deploy";

/** The output variables of the task contract, as far as the outcome tells them. */
export type Outputs = Partial<
  Record<
    | "jobName"
    | "runId"
    | "jobId"
    | "jobStatus"
    | "actionResult"
    | "jobOutput"
    | "lastSavepoint"
    | "savepointPath"
    | "savepoints"
    | "savepointCount"
    | "jarId"
    | "jobs"
    | "jobCount"
    | "deployAction"
    | "jarSha256"
    | "jarPath"
    | "previousSavepoint",
    string
  >
>;

/**
 * One environment string may not exceed 128 KiB on Linux, and an output variable becomes one in
 * later steps: past this, a step after ours might not start at all.
 */
export const MAX_JOBS_OUTPUT_CHARS = 96 * 1024;

export function jobOutputs(job: JobView | undefined, jobName: string | undefined): Outputs {
  const outputs: Outputs = {};
  const name = job?.jobName ?? jobName;
  if (name !== undefined) outputs.jobName = name;
  if (!job) return outputs;
  if (job.runId !== undefined) outputs.runId = job.runId;
  if (job.jobId !== undefined) outputs.jobId = job.jobId;
  if (job.jobStatus !== undefined) outputs.jobStatus = job.jobStatus;
  if (job.jobOutput !== undefined) outputs.jobOutput = job.jobOutput;
  if (job.lastSavepoint !== undefined) outputs.lastSavepoint = job.lastSavepoint;
  if (job.jarId !== undefined) outputs.jarId = job.jarId;
  return outputs;
}

export function actionOutputs(outcome: ActionOutcome, jobName: string): Outputs {
  const outputs = jobOutputs(outcome.job, jobName);
  outputs.actionResult = outcome.actionResult;
  if (outcome.savepointPath !== undefined) outputs.savepointPath = outcome.savepointPath;
  if (outcome.savepoints !== undefined) {
    // savepointCount counts them all; the list holds the newest that fit (see MAX_JOBS_OUTPUT_CHARS).
    outputs.savepoints = boundedJson(outcome.savepoints).json;
    outputs.savepointCount = String(outcome.savepoints.length);
  }
  return outputs;
}

/** A JSON array of whole records, the first ones that fit in MAX_JOBS_OUTPUT_CHARS, so the value stays valid JSON. */
function boundedJson(records: readonly object[]): { json: string; kept: number } {
  const all = JSON.stringify(records);
  if (all.length <= MAX_JOBS_OUTPUT_CHARS) return { json: all, kept: records.length };
  let kept = 0;
  let size = 2;
  for (const record of records) {
    const next = JSON.stringify(record).length + (kept ? 1 : 0);
    if (size + next > MAX_JOBS_OUTPUT_CHARS) break;
    size += next;
    kept++;
  }
  return { json: JSON.stringify(records.slice(0, kept)), kept };
}

/** FlinkJobStatus: the named job, and every record read (capped: see MAX_JOBS_OUTPUT_CHARS). */
export function statusOutputs(status: StatusOutcome, jobName: string | undefined): { outputs: Outputs; jobsCut?: { kept: number; total: number } } {
  const outputs: Outputs = status.job ? jobOutputs(status.job, jobName) : {};
  if (status.actionResult !== undefined) outputs.actionResult = status.actionResult;
  outputs.jobCount = String(status.jobs.length);
  const { json, kept } = boundedJson(status.jobs);
  outputs.jobs = json;
  return kept === status.jobs.length ? { outputs } : { outputs, jobsCut: { kept, total: status.jobs.length } };
}

/** FlinkJobDeploy: the action's outputs and what the deployment adds (also on failure). */
export function deployOutputs(outcome: Partial<DeployOutcome>, jobName: string): Outputs {
  const outputs = outcome.actionResult ? actionOutputs(outcome as ActionOutcome, jobName) : jobOutputs(outcome.job, jobName);
  if (outcome.deployAction !== undefined) outputs.deployAction = outcome.deployAction;
  if (outcome.jarSha256 !== undefined) outputs.jarSha256 = outcome.jarSha256;
  if (outcome.jarId !== undefined) outputs.jarId = outcome.jarId;
  if (outcome.jarPath !== undefined) outputs.jarPath = outcome.jarPath;
  if (outcome.previousSavepoint !== undefined) outputs.previousSavepoint = outcome.previousSavepoint;
  return outputs;
}
