import { ACTIONS, type ApiVersion, hasRunId } from "../flink/actions";
import type { JobRecord } from "../flink/job-record";
import type { ActionOutcome } from "../flink/run-action";
import { savepointFromOutput, savepointsFromList } from "../flink/savepoints";
import type { ValidatedTask } from "../validation/task-inputs";

/** The output variables of the task contract, as far as the action tells them. */
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
    | "jobs"
    | "jobCount",
    string
  >
>;

export function recordOutputs(record: JobRecord | undefined, jobName: string, apiVersion: ApiVersion): Outputs {
  const p = record?.properties ?? {};
  const outputs: Outputs = { jobName };
  if (hasRunId(apiVersion)) outputs.runId = p.runId ?? "";
  if (p.jobId !== undefined) outputs.jobId = p.jobId;
  if (p.status !== undefined) outputs.jobStatus = p.status;
  if (p.jobOutput !== undefined) outputs.jobOutput = p.jobOutput;
  if (p.lastSavePoint !== undefined) outputs.lastSavepoint = p.lastSavePoint;
  return outputs;
}

export function actionOutputs(task: ValidatedTask, outcome: ActionOutcome): Outputs {
  const request = task.request!;
  const outputs = recordOutputs(outcome.record, request.jobName, task.apiVersion);
  outputs.actionResult = outcome.actionResult;
  const spec = ACTIONS[request.action];
  const p = outcome.record?.properties;
  if (spec.writesSavepoint && outcome.actionResult !== "IN_PROGRESS") {
    // The savepoint this action wrote: named in its own output, or the new lastSavePoint. A
    // failed stop can still have written one, and that path is the hand-off to a restart.
    const written = savepointFromOutput(p?.jobOutput) ?? (p?.lastSavePoint !== outcome.before?.properties.lastSavePoint ? p?.lastSavePoint : undefined);
    if (written) outputs.savepointPath = written;
  }
  if (spec.listsSavepoints && outcome.actionResult === "SUCCESS") {
    const list = savepointsFromList(p?.jobOutput);
    outputs.savepoints = JSON.stringify(list);
    outputs.savepointCount = String(list.length);
  }
  return outputs;
}

/** FlinkJobStatus: the latest record of the named job, and every record read. */
export function statusOutputs(task: ValidatedTask, records: JobRecord[], record: JobRecord | undefined): Outputs {
  const outputs: Outputs = record ? recordOutputs(record, task.jobName!, task.apiVersion) : {};
  if (record?.properties.actionResult !== undefined) outputs.actionResult = record.properties.actionResult;
  // The records as the service returned them: their properties.
  outputs.jobs = JSON.stringify(records.map((r) => r.properties));
  outputs.jobCount = String(records.length);
  return outputs;
}
