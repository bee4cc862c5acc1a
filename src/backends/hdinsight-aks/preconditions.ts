import { JobStateError } from "../../errors";
import { ACTIONS, hasRunId } from "./actions";
import { isLive, type JobRecord } from "./job-record";
import type { JobsApi, RunJobBody } from "./jobs-api";
import { jobNotFound } from "./read-status";
import type { ActionRequest } from "./run-action";

/**
 * What must hold before an action is posted, checked on the records read just before. Each
 * refusal says what to do instead; nothing has been sent when one is raised.
 */
export async function checkPreconditions(api: JobsApi, request: ActionRequest, named: JobRecord[], target: JobRecord | undefined, signal: AbortSignal): Promise<void> {
  const spec = ACTIONS[request.action];
  const busy = named.find((r) => r.properties.actionResult === "IN_PROGRESS");
  if (busy && (spec.createsRecord || busy === target)) {
    throw new JobStateError(
      `Job '${request.jobName}' has ${busy.properties.action ?? "an"} action still IN_PROGRESS${ids(busy)}; ` +
        `wait for it to finish before running ${request.action}.`,
    );
  }
  if (spec.createsRecord) {
    // The service would accept it and run a second job of the same name beside the first.
    const running = named.find(isLive);
    if (running) {
      throw new JobStateError(
        `Job '${request.jobName}' is already RUNNING${ids(running)}; submitting it again would start a second job of the same name. ` +
          `To run a new jar, stop it (FlinkJobStop) or cancel it (FlinkJobCancel) and submit again, or use FlinkJobDeploy; ` +
          `to change only its arguments, use FlinkJobUpdate.`,
      );
    }
    return;
  }
  if (!target) throw await jobNotFound(api, request.jobName, signal, request.action);
  const status = target.properties.status;
  if (spec.needsStatus && status !== undefined && (status === "RUNNING") !== spec.needsStatus.running) {
    throw new JobStateError(`Job '${request.jobName}' is ${status}${ids(target)}, so ${request.action} was not posted. ${spec.needsStatus.advice}`);
  }
}

function ids(record: JobRecord): string {
  const p = record.properties;
  const list = [p.runId && `runId ${p.runId}`, p.jobId && `jobId ${p.jobId}`].filter(Boolean).join(", ");
  return list ? ` (${list})` : "";
}

/** The runJob body: the fields the action carries, and the exact record it is for where the API can say. */
export function buildBody(request: ActionRequest, target: JobRecord | undefined, apiVersion: JobsApi["apiVersion"]): RunJobBody {
  const properties: RunJobBody["properties"] = { jobType: "FlinkJob", jobName: request.jobName, action: request.action };
  for (const field of ACTIONS[request.action].fields) {
    const value = request.definition[field];
    if (value !== undefined) (properties as Record<string, unknown>)[field] = value;
  }
  if (!ACTIONS[request.action].createsRecord && hasRunId(apiVersion) && target?.properties.runId) {
    properties.runId = target.properties.runId;
  }
  return { properties };
}
