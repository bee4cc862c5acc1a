import type { ArmResponse } from "../azure/arm-client";
import { pollOperation } from "../azure/long-running-operation";
import { AmbiguousRequestError, CancelledError, OperationFailedError, JobStateError, WaitTimeoutError } from "../errors";
import { sleep } from "../util/abort";
import { type Logger, silentLogger } from "../util/logger";
import { ACTIONS, type DefinitionField, type FlinkAction, hasRunId } from "./actions";
import {
  type ActionResult,
  describeRecord,
  fingerprint,
  isTerminal,
  type JobProperties,
  type JobRecord,
  latestRecord,
  recordKey,
  recordsNamed,
} from "./job-record";
import type { FlinkJobsApi, RunJobBody } from "./jobs-api";
import { PollingSchedule } from "./polling";
import { jobNotFound, listJobConfirmingAbsence } from "./read-status";

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
  /** The shortest gap (tests and the benchmark shorten it; the default is one second). */
  minPollIntervalMs?: number;
  /**
   * After an ambiguous POST (dropped connection, 5xx), how long to watch the job record for a
   * sign that the action was accepted before posting again.
   */
  ambiguityWindowMs?: number;
  /**
   * A record identical to the one read before the POST is ours only once the operation has
   * succeeded and this long has passed (the same action can leave the same record twice).
   */
  unchangedGraceMs?: number;
  logger?: Logger;
  onProgress?: (message: string) => void;
}

export interface ActionOutcome {
  actionResult: ActionResult;
  /** The job's record after the action (absent after DELETE). */
  record: JobRecord | undefined;
  /** The record before the action (absent for NEW). */
  before: JobRecord | undefined;
  /** How many times the POST was sent (1 unless an ambiguous failure proved it was not accepted). */
  posts: number;
  /** x-ms-request-id of the runJob POST that was accepted, for support cases. */
  requestId: string | undefined;
}

/**
 * Runs one action on one job: read the job, check it may take the action, post it, follow the
 * operation, then wait on the job list until the record shows this action's result.
 */
export async function runAction(api: FlinkJobsApi, request: ActionRequest, options: RunActionOptions): Promise<ActionOutcome> {
  const log = options.logger ?? silentLogger;
  const cancel = options.signal;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new WaitTimeoutError("timeout")), options.timeoutMs);
  const signal = AbortSignal.any(cancel ? [cancel, timeout.signal] : [timeout.signal]);
  const watcher = new RecordWatcher(request, api, log);
  try {
    const beforeAll = ACTIONS[request.action].createsRecord
      ? await api.listJobs({ jobName: request.jobName, signal })
      : await listJobConfirmingAbsence(api, request.jobName, signal);
    watcher.remember(beforeAll);
    const before = latestRecord(beforeAll, request.jobName);
    await checkPreconditions(api, request, before, signal);

    const body = buildBody(request, before, api);
    const schedule = new PollingSchedule(options.maxPollIntervalMs, options.minPollIntervalMs);
    const response = await post(api, body, watcher, schedule, options, signal);
    if (response) {
      try {
        await pollOperation(api.client, response, {
          signal,
          nextDelayMs: () => schedule.nextDelayMs(),
          onStatus: (s) => log.debug(`Operation status: ${s}`),
        });
        watcher.operationSucceededAt = Date.now();
        log.info(`The cluster accepted ${request.action} for job '${request.jobName}'.`);
      } catch (error) {
        // An operation that ended Failed is the service's refusal; anything else is our view of
        // it failing, and the job record still tells what happened.
        if (error instanceof OperationFailedError || signal.aborted) throw error;
        log.warning(`Could not follow the operation status (${(error as Error).message}); reading the job record instead.`);
      }
    }

    if (!options.waitForCompletion) {
      const records = await api.listJobs({ jobName: request.jobName, signal }).catch(() => undefined);
      const record = records ? watcher.currentRecord(records) : undefined;
      return watcher.outcome("IN_PROGRESS", record ?? before);
    }

    for (;;) {
      await sleep(schedule.nextDelayMs(), signal);
      const records = await api.listJobs({ jobName: request.jobName, signal });
      const verdict = watcher.judge(records, unchangedGraceMs(options));
      if (verdict.done) {
        return watcher.outcome(verdict.result, verdict.record);
      }
      options.onProgress?.(describeRecord(verdict.record));
    }
  } catch (error) {
    if (cancel?.aborted) {
      throw new CancelledError(
        `The pipeline was cancelled while waiting for ${request.action} on job '${request.jobName}'. ` +
          `${watcher.posted ? "The action may continue on the cluster" : "The action was not posted"}; last seen: ${describeRecord(watcher.lastSeen)}.`,
      );
    }
    if (timeout.signal.aborted) {
      // One last look, briefly: the action may have finished while the last read was under way.
      const lastLook = AbortSignal.any([AbortSignal.timeout(30_000), ...(cancel ? [cancel] : [])]);
      const records = watcher.posted ? await api.listJobs({ jobName: request.jobName, signal: lastLook }).catch(() => undefined) : undefined;
      if (records) {
        const verdict = watcher.judge(records, unchangedGraceMs(options));
        if (verdict.done) return watcher.outcome(verdict.result, verdict.record);
      }
      throw new WaitTimeoutError(
        `Timed out after ${formatDuration(options.timeoutMs)} waiting for ${request.action} on job '${request.jobName}'. ` +
          `${watcher.posted ? "The action may still complete on the cluster" : "The action was not posted"}; ` +
          `last seen: ${describeRecord(watcher.lastSeen)}. Raise waitTimeoutInMinutes or check the job with FlinkJobStatus.` +
          (watcher.requestId ? ` [runJob request id ${watcher.requestId}]` : ""),
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function unchangedGraceMs(options: RunActionOptions): number {
  return options.unchangedGraceMs ?? 60_000;
}

async function checkPreconditions(
  api: FlinkJobsApi,
  request: ActionRequest,
  before: JobRecord | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (before?.properties.actionResult === "IN_PROGRESS") {
    throw new JobStateError(
      `Job '${request.jobName}' has ${before.properties.action ?? "an"} action still IN_PROGRESS; ` +
        `wait for it to finish before running ${request.action}.`,
    );
  }
  if (before?.properties.status === "RUNNING" && ACTIONS[request.action].createsRecord) {
    // The service would accept it and run a second job of the same name beside the first.
    const ids = [before.properties.runId && `runId ${before.properties.runId}`, before.properties.jobId && `jobId ${before.properties.jobId}`].filter(Boolean).join(", ");
    throw new JobStateError(
      `Job '${request.jobName}' is already RUNNING${ids ? ` (${ids})` : ""}; submitting it again would start a second job of the same name. ` +
        `Use FlinkJobUpdate to deploy new code, or stop or cancel the job first.`,
    );
  }
  if (!before && !ACTIONS[request.action].createsRecord) {
    throw await jobNotFound(api, request.jobName, signal, request.action);
  }
}

export function buildBody(request: ActionRequest, before: JobRecord | undefined, api: FlinkJobsApi): RunJobBody {
  const properties: RunJobBody["properties"] = { jobType: "FlinkJob", jobName: request.jobName, action: request.action };
  for (const field of ACTIONS[request.action].fields) {
    const value = request.definition[field];
    if (value !== undefined) (properties as Record<string, unknown>)[field] = value;
  }
  // Name the exact record the action is for, where the API can.
  if (!ACTIONS[request.action].createsRecord && hasRunId(api.apiVersion) && before?.properties.runId) {
    properties.runId = before.properties.runId;
  }
  return { properties };
}

async function post(
  api: FlinkJobsApi,
  body: RunJobBody,
  watcher: RecordWatcher,
  schedule: PollingSchedule,
  options: RunActionOptions,
  signal: AbortSignal,
): Promise<ArmResponse | undefined> {
  const log = options.logger ?? silentLogger;
  const maxPosts = 3;
  for (;;) {
    watcher.posts++;
    try {
      const response = await api.runJob(body, signal);
      log.debug(`runJob answered ${response.status}; x-ms-request-id=${response.requestId ?? "-"}`);
      watcher.requestId = response.requestId;
      return response;
    } catch (error) {
      if (!(error instanceof AmbiguousRequestError) || signal.aborted) throw error;
      log.warning(`${error.message}. Checking the job record before doing anything else.`);
      // Watch the record long enough to outlast the service's stale window.
      const deadline = Date.now() + (options.ambiguityWindowMs ?? 30_000);
      while (Date.now() < deadline) {
        await sleep(Math.min(schedule.nextDelayMs(), 2_000), signal);
        const records = await api.listJobs({ jobName: body.properties.jobName, signal });
        if (watcher.showsAction(records)) {
          log.info(`The job record shows that ${body.properties.action} was accepted; not posting it again.`);
          return undefined;
        }
      }
      if (watcher.posts >= maxPosts) throw error;
      log.info(`The job record shows no sign of ${body.properties.action}; posting it again.`);
    }
  }
}

type Verdict = { done: true; result: "SUCCESS" | "FAILED"; record: JobRecord | undefined } | { done: false; record: JobRecord | undefined };

/**
 * Tells this action's result from the stale one. Knows the records from before the POST and
 * accepts only a record that has visibly changed since, or that showed this action IN_PROGRESS.
 */
class RecordWatcher {
  before: JobRecord | undefined;
  private beforeKeys = new Set<string>();
  private beforeFingerprints = new Set<string>();
  private seenInProgress = false;
  private absentReads = 0;
  lastSeen: JobRecord | undefined;
  operationSucceededAt: number | undefined;
  requestId: string | undefined;
  posts = 0;

  constructor(
    private readonly request: ActionRequest,
    private readonly api: FlinkJobsApi,
    private readonly log: Logger,
  ) {}

  get posted(): boolean {
    return this.posts > 0;
  }

  outcome(actionResult: ActionResult, record: JobRecord | undefined): ActionOutcome {
    return { actionResult, record, before: this.before, posts: this.posts, requestId: this.requestId };
  }

  remember(records: JobRecord[]): void {
    const named = recordsNamed(records, this.request.jobName);
    this.before = named[named.length - 1];
    this.lastSeen = this.before;
    for (const r of named) {
      this.beforeKeys.add(recordKey(r));
      this.beforeFingerprints.add(fingerprint(r));
    }
  }

  /** The record this action is about, in a fresh read. */
  currentRecord(records: JobRecord[]): JobRecord | undefined {
    const named = recordsNamed(records, this.request.jobName);
    if (ACTIONS[this.request.action].createsRecord) {
      const byRunId = hasRunId(this.api.apiVersion);
      const fresh = named.filter((r) =>
        byRunId && r.properties.runId ? !this.beforeKeys.has(recordKey(r)) : !this.beforeFingerprints.has(fingerprint(r)),
      );
      return fresh[fresh.length - 1];
    }
    const runId = this.before?.properties.runId;
    if (runId && hasRunId(this.api.apiVersion)) return named.find((r) => r.properties.runId === runId);
    return named[named.length - 1];
  }

  /** Whether a read shows any sign that the action was accepted. */
  showsAction(records: JobRecord[]): boolean {
    const record = this.currentRecord(records);
    if (ACTIONS[this.request.action].createsRecord) return record !== undefined;
    if (!record) {
      // As in judge(): a record gone for one read may only have dropped out of the list.
      this.absentReads++;
      return ACTIONS[this.request.action].removesRecord === true && this.absentReads >= 2;
    }
    this.absentReads = 0;
    return record.properties.action === this.request.action && fingerprint(record) !== fingerprint(this.before);
  }

  judge(records: JobRecord[], unchangedGraceMs: number): Verdict {
    const record = this.currentRecord(records);
    const spec = ACTIONS[this.request.action];
    if (!record) {
      this.absentReads++;
      // DELETE succeeds when the record is gone; two reads in a row rule out a passing gap.
      if (spec.removesRecord && this.absentReads >= 2) return { done: true, result: "SUCCESS", record: undefined };
      return { done: false, record: this.lastSeen };
    }
    this.absentReads = 0;
    this.lastSeen = record;
    const p = record.properties;
    if (p.action !== this.request.action) return { done: false, record };
    if (p.actionResult === "IN_PROGRESS") {
      this.seenInProgress = true;
      return { done: false, record };
    }
    if (!isTerminal(p.actionResult)) return { done: false, record };
    const changed = spec.createsRecord || fingerprint(record) !== fingerprint(this.before);
    if (changed || this.seenInProgress) return { done: true, result: p.actionResult, record };
    if (this.operationSucceededAt !== undefined && Date.now() - this.operationSucceededAt >= unchangedGraceMs) {
      this.log.warning(
        `The job record has not changed since before ${this.request.action} was posted; taking its result (${p.actionResult}) as this action's.`,
      );
      return { done: true, result: p.actionResult, record };
    }
    return { done: false, record };
  }
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  return `${Math.round(ms / 1000)} s`;
}
