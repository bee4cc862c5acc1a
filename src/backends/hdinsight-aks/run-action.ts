import type { ArmResponse } from "../../azure/arm-client";
import { pollOperation } from "../../azure/long-running-operation";
import { CancelledError, OperationFailedError, WaitTimeoutError } from "../../errors";
import { Deadline, formatDuration } from "../../jobs/deadline";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import { type Logger, silentLogger } from "../../util/logger";
import { ACTIONS, type DefinitionField, type FlinkAction, hasRunId } from "./actions";
import { type ActionResult, currentRecord, describeRecord, type JobProperties, type JobRecord, recordKey, recordsNamed } from "./job-record";
import type { JobsApi } from "./jobs-api";
import { judge, type JudgeContext, type JudgeMemory, type OperationState, showsAcceptance } from "./judge";
import { postAction } from "./post";
import { buildBody, checkPreconditions } from "./preconditions";
import { listJobConfirmingAbsence, readDuringWait } from "./read-status";
import { jobView } from "./view";

export interface ActionRequest {
  action: FlinkAction;
  jobName: string;
  /** Body fields; only those the action carries are sent. */
  definition: Partial<Pick<JobProperties, DefinitionField>>;
}

export interface RunActionOptions {
  /** Aborted when the pipeline is cancelled. */
  signal?: AbortSignal;
  /** How long to wait for the action's result, POST included. */
  timeoutMs: number;
  /** false: return as soon as the cluster has accepted the action. */
  waitForCompletion: boolean;
  /** The longest gap between two reads. */
  maxPollIntervalMs: number;
  /** The shortest gap (tests shorten it; the default is one second). */
  minPollIntervalMs?: number;
  /** After an ambiguous POST, how long to watch the records before deciding (default 30 s). */
  ambiguityWindowMs?: number;
  /** How long a record of this action may show no status and no result (default 2 minutes). */
  silentLimitMs?: number;
  /** How long the operation alone is followed before the job list is read beside it (default 10 s). */
  operationHeadStartMs?: number;
  logger?: Logger;
  onProgress?: (message: string) => void;
}

/** What one action came to, in the service's own records. */
export interface RecordOutcome {
  actionResult: ActionResult;
  /** The job's record after the action (absent after DELETE). */
  record: JobRecord | undefined;
  /** The record the action was aimed at, as read before the POST (absent for NEW). */
  before: JobRecord | undefined;
  /** How many times the POST was sent (1 unless an ambiguous failure proved it was not accepted). */
  posts: number;
  /** x-ms-request-id of the runJob POST that was accepted, for support cases. */
  requestId: string | undefined;
}

/**
 * Runs one action on one job: read the job's records, check it may take the action, post it,
 * then follow the operation and the job list side by side until the judge has a verdict.
 */
export async function runAction(api: JobsApi, request: ActionRequest, options: RunActionOptions): Promise<RecordOutcome> {
  const log = options.logger ?? silentLogger;
  const deadline = new Deadline(options.timeoutMs, options.signal);
  const signal = deadline.signal;
  const spec = ACTIONS[request.action];
  let posts = 0;
  let requestId: string | undefined;
  let memory: JudgeMemory = {};
  let before: JobRecord | undefined;
  let context: JudgeContext | undefined;
  const outcome = (actionResult: ActionResult, record: JobRecord | undefined): RecordOutcome => ({ actionResult, record, before, posts, requestId });
  const lastSeen = () => memory.lastSeen ?? before;
  const stopOperation = new AbortController();
  let warnedSilent = false;
  try {
    const beforeAll = spec.createsRecord ? await api.listJobs({ jobName: request.jobName, signal }) : await listJobConfirmingAbsence(api, request.jobName, signal);
    const named = recordsNamed(beforeAll, request.jobName);
    before = spec.createsRecord ? undefined : currentRecord(beforeAll, request.jobName);
    await checkPreconditions(api, request, named, before, signal);
    if (named.length > 1 && before) log.info(`Job '${request.jobName}' has ${named.length} records; acting on ${describeRecord(before)}.`);
    context = {
      action: request.action,
      jobName: request.jobName,
      before: named,
      ...(before ? { targetKey: recordKey(before) } : {}),
      byRunId: hasRunId(api.apiVersion),
      silentLimitMs: options.silentLimitMs ?? 120_000,
    };
    const judgeContext = context;

    const schedule = new PollingSchedule(options.maxPollIntervalMs, options.minPollIntervalMs);
    const response = await postAction(api, buildBody(request, before, api.apiVersion), judgeContext, {
      signal,
      schedule,
      logger: log,
      ...(options.ambiguityWindowMs !== undefined ? { ambiguityWindowMs: options.ambiguityWindowMs } : {}),
      onPost: () => posts++,
      onAccepted: (r) => (requestId = r.requestId),
    });
    const postedAt = Date.now();
    const operation = followOperation(api, response, schedule, AbortSignal.any([signal, stopOperation.signal]), log, request);

    for (;;) {
      if (operation.failure) throw operation.failure;
      if (!options.waitForCompletion && operation.state === "succeeded") {
        const records = await readDuringWait(api, request.jobName, signal, log);
        return outcome("IN_PROGRESS", (records && judge(judgeContext, memory, { records, operation: operation.state, now: Date.now() }).verdict.record) ?? before);
      }
      // Sleep until the next read, or until the operation settles, whichever is first.
      const wake = operation.state === "pending" ? [operation.settled] : [];
      const woken = await sleep(schedule.nextDelayMs(), AbortSignal.any([signal, ...wake])).then(
        () => false,
        (error: unknown) => {
          if (signal.aborted) throw error;
          return true;
        },
      );
      if (operation.failure) throw operation.failure;
      // Just settled: its success says only "submitted", and the record lags; read after a full pause.
      if (woken) continue;
      // The operation usually answers first (the recorded NEW's took 12 s); the list is read beside it
      // once it has taken a while, as it may never end.
      if (operation.state === "pending" && Date.now() - postedAt < (options.operationHeadStartMs ?? 10_000)) continue;
      const records = await readDuringWait(api, request.jobName, signal, log);
      if (!records) continue;
      const judged = judge(judgeContext, memory, { records, operation: operation.state, now: Date.now() });
      memory = judged.memory;
      const verdict = judged.verdict;
      // Not waiting: any sign of acceptance ends the step, and the result is not ours to claim.
      if (!options.waitForCompletion && (verdict.kind === "done" || showsAcceptance(judgeContext, records))) return outcome("IN_PROGRESS", verdict.record ?? before);
      if (verdict.kind === "done") return outcome(verdict.result, verdict.record);
      if (verdict.kind === "silent") {
        throw new WaitTimeoutError(
          `The cluster's record of job '${request.jobName}'${verdict.record.properties.runId ? ` (runId ${verdict.record.properties.runId})` : ""} ` +
            `has shown no status and no actionResult for ${formatDuration(verdict.forMs)} after ${request.action} was posted: the cluster has not reported a result, ` +
            `and may never. Check the job in the cluster's Flink dashboard.${requestId ? ` [runJob request id ${requestId}]` : ""}`,
          jobView(verdict.record, request.jobName, api.apiVersion),
        );
      }
      if (memory.silentSince !== undefined && !warnedSilent) {
        warnedSilent = true;
        log.warning(`The record of job '${request.jobName}' shows no status and no actionResult yet; waiting up to ${formatDuration(judgeContext.silentLimitMs)} for one.`);
      }
      options.onProgress?.(`${describeRecord(verdict.record)} (${verdict.why})`);
    }
  } catch (error) {
    const posted = posts > 0;
    if (deadline.cancelled) {
      throw new CancelledError(
        `The pipeline was cancelled while waiting for ${request.action} on job '${request.jobName}'. ` +
          (posted
            ? `${request.action} was posted${requestId ? ` (runJob request id ${requestId})` : ""}. The action may continue on the cluster; last seen: ${describeRecord(lastSeen())}. ` +
              `Check the job with FlinkJobStatus before running this step again.`
            : `The action was not posted; last seen: ${describeRecord(lastSeen())}.`),
        jobView(lastSeen(), request.jobName, api.apiVersion),
      );
    }
    if (deadline.timedOut) {
      // One last look, briefly: the action may have finished while the last read was under way.
      if (posted && context) {
        const records = await api.listJobs({ jobName: request.jobName, signal: deadline.lastLookSignal() }).catch(() => undefined);
        if (records) {
          const judged = judge(context, memory, { records, operation: "unknown", now: Date.now() });
          memory = judged.memory;
          if (judged.verdict.kind === "done") return outcome(judged.verdict.result, judged.verdict.record);
        }
      }
      throw new WaitTimeoutError(
        `Timed out after ${formatDuration(options.timeoutMs)} waiting for ${request.action} on job '${request.jobName}'. ` +
          `${posted ? "The action may still complete on the cluster" : "The action was not posted"}; ` +
          `last seen: ${describeRecord(lastSeen())}. Raise waitTimeoutInMinutes or check the job with FlinkJobStatus.` +
          (requestId ? ` [runJob request id ${requestId}]` : ""),
        jobView(lastSeen(), request.jobName, api.apiVersion),
      );
    }
    throw error;
  } finally {
    stopOperation.abort();
    deadline.dispose();
  }
}

interface FollowedOperation {
  state: OperationState;
  failure?: Error;
  /** Settles (never rejects) when the operation has an answer or cannot be followed. */
  settled: AbortSignal;
}

/**
 * Follows the runJob operation in the background. Its success only says the action was
 * submitted, and an operation may never end (or answer 200 with no status): the job list is
 * read beside it, and the judge decides.
 */
function followOperation(api: JobsApi, response: ArmResponse | undefined, schedule: PollingSchedule, signal: AbortSignal, log: Logger, request: ActionRequest): FollowedOperation {
  const settled = new AbortController();
  const followed: FollowedOperation = { state: response ? "pending" : "unknown", settled: settled.signal };
  if (!response) {
    settled.abort();
    return followed;
  }
  pollOperation(api.client, response, { signal, nextDelayMs: () => schedule.nextDelayMs(), onStatus: (s) => log.debug(`Operation status: ${s || "(none)"}`) })
    .then((result) => {
      followed.state = result.kind === "succeeded" ? "succeeded" : "unknown";
      if (result.kind === "succeeded") log.info(`The cluster accepted ${request.action} for job '${request.jobName}'.`);
    })
    .catch((error: unknown) => {
      followed.state = "unknown";
      if (signal.aborted) return;
      // An operation that ended Failed is the service's refusal; anything else is our view of it
      // failing, and the job record still tells what happened.
      if (error instanceof OperationFailedError) followed.failure = error;
      else log.warning(`Could not follow the operation status (${(error as Error).message}); reading the job record instead.`);
    })
    .finally(() => settled.abort());
  return followed;
}
