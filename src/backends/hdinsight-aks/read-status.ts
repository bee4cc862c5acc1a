import { AmbiguousRequestError, ArmError, JobStateError, MalformedAnswerError, WaitTimeoutError } from "../../errors";
import { Deadline, formatDuration } from "../../jobs/deadline";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import { type Logger, silentLogger } from "../../util/logger";
import { currentRecord, describeRecord, type JobRecord, recordsNamed } from "./job-record";
import type { JobsApi } from "./jobs-api";

export interface ReadStatusOptions {
  jobName?: string;
  /** Keep reading until the job's status is this one. */
  waitForStatus?: string;
  timeoutMs: number;
  maxPollIntervalMs: number;
  minPollIntervalMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (message: string) => void;
}

export interface RecordsRead {
  /** The records read (of the job, or of the whole cluster). */
  records: JobRecord[];
  /** The job's current record, when a job was named. */
  record: JobRecord | undefined;
}

/** A status no job leaves by itself: waiting on for another one is pointless. */
export function isFailureStatus(status: string | undefined): boolean {
  return /FAIL/i.test(status ?? "");
}

/** A read failure that a later read may not have: throttling and 5xx past the client's retries, a dropped connection, a malformed page. */
export function isPassing(error: unknown): boolean {
  if (error instanceof MalformedAnswerError || error instanceof AmbiguousRequestError) return true;
  return error instanceof ArmError && (error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500);
}

/**
 * One read inside a wait: a passing failure is logged and answers undefined (the caller reads
 * again on its schedule, until its deadline); anything else, and cancellation, is thrown.
 */
export async function readDuringWait(api: JobsApi, jobName: string | undefined, signal: AbortSignal, log: Logger): Promise<JobRecord[] | undefined> {
  try {
    return await api.listJobs({ ...(jobName !== undefined ? { jobName } : {}), signal });
  } catch (error) {
    if (signal.aborted || !isPassing(error)) throw error;
    log.warning(`Reading the job list failed (${(error as Error).message}); reading it again.`);
    return undefined;
  }
}

/** Reads one job or every job; with waitForStatus, until the job has that status. */
export async function readStatus(api: JobsApi, options: ReadStatusOptions): Promise<RecordsRead> {
  const { jobName, waitForStatus } = options;
  const log = options.logger ?? silentLogger;
  if (!jobName) return { records: await api.listJobs({ signal: options.signal }), record: undefined };
  const records = await listJobConfirmingAbsence(api, jobName, options.signal);
  if (!records.length) throw await jobNotFound(api, jobName, options.signal);
  warnSeveral(records, jobName, log);
  let record = currentRecord(records, jobName);
  if (!waitForStatus) return { records, record };

  const schedule = new PollingSchedule(options.maxPollIntervalMs, options.minPollIntervalMs);
  const deadline = new Deadline(options.timeoutMs, options.signal);
  let current = records;
  try {
    for (;;) {
      const status = record?.properties.status;
      if (status === waitForStatus) return { records: current, record };
      if (isFailureStatus(status) && !isFailureStatus(waitForStatus)) {
        throw new JobStateError(
          `Job '${jobName}' reached the failure status ${status} while waiting for ${waitForStatus}. The cluster said: ${record?.properties.jobOutput ?? "(no job output)"}`,
        );
      }
      options.onProgress?.(describeRecord(record));
      await sleep(Math.min(schedule.nextDelayMs(), deadline.remainingMs()), deadline.signal);
      const read = await readDuringWait(api, jobName, deadline.signal, log);
      if (read) {
        current = read;
        // A record briefly missing from the list is no answer: keep the last one seen.
        record = currentRecord(read, jobName) ?? record;
      }
    }
  } catch (error) {
    if (deadline.timedOut) {
      throw new WaitTimeoutError(
        `Timed out after ${formatDuration(options.timeoutMs)} waiting for job '${jobName}' to reach ${waitForStatus}; last seen: ${describeRecord(record)}.`,
      );
    }
    throw error;
  } finally {
    deadline.dispose();
  }
}

/** Several records of one name: say which one the outputs describe, and why. */
export function warnSeveral(records: JobRecord[], jobName: string, log: Logger): void {
  const named = recordsNamed(records, jobName);
  if (named.length < 2) return;
  const chosen = currentRecord(records, jobName);
  log.info(
    `The cluster lists ${named.length} records named '${jobName}' (runIds ${named.map((r) => r.properties.runId ?? "?").join(", ")}); ` +
      `reporting ${chosen?.properties.runId ?? "the last listed"}${chosen?.properties.status === "RUNNING" ? ", the running one" : ", the last listed (none runs)"}.`,
  );
}

/**
 * The job's records; when there are none, read twice more before believing it: a job can drop
 * out of the list for a moment, and "not found" fails the step.
 */
export async function listJobConfirmingAbsence(api: JobsApi, jobName: string, signal: AbortSignal | undefined): Promise<JobRecord[]> {
  for (const pause of [1000, 2000]) {
    const records = await api.listJobs({ jobName, signal });
    if (records.length) return records;
    await sleep(pause, signal);
  }
  return api.listJobs({ jobName, signal });
}

/** The error for a job that does not exist, naming the jobs that do. */
export async function jobNotFound(api: JobsApi, jobName: string, signal: AbortSignal | undefined, action?: string): Promise<JobStateError> {
  const names = [...new Set((await api.listJobs({ signal })).map((r) => r.properties.jobName).filter(Boolean))];
  const where = `cluster '${api.cluster.clusterName}' (pool '${api.cluster.clusterPoolName}')`;
  const existing = names.length ? `Jobs on the cluster: ${names.join(", ")}.` : "The cluster has no jobs.";
  return new JobStateError(
    action === "DELETE"
      ? `Job '${jobName}' does not exist on ${where}, so there is nothing to delete. ${existing}`
      : `Job '${jobName}' was not found on ${where}. ${existing}`,
  );
}
