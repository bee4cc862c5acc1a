import { JobStateError, WaitTimeoutError } from "../errors";
import { sleep } from "../util/abort";
import { describeRecord, type JobRecord, latestRecord } from "./job-record";
import type { FlinkJobsApi } from "./jobs-api";
import { PollingSchedule } from "./polling";

export interface ReadStatusOptions {
  jobName?: string;
  /** Keep reading until the job's status is this one. */
  waitForStatus?: string;
  timeoutMs: number;
  maxPollIntervalMs: number;
  minPollIntervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface StatusOutcome {
  /** The records read (of the job, or of the whole cluster). */
  records: JobRecord[];
  /** The job's latest record, when a job was named. */
  record: JobRecord | undefined;
}

/** A status no job leaves by itself: waiting on for another one is pointless. */
export function isFailureStatus(status: string | undefined): boolean {
  return /FAIL/i.test(status ?? "");
}

/** Reads one job or every job; with waitForStatus, until the job has that status. */
export async function readStatus(api: FlinkJobsApi, options: ReadStatusOptions): Promise<StatusOutcome> {
  const { jobName, waitForStatus } = options;
  if (!jobName) return { records: await api.listJobs({ signal: options.signal }), record: undefined };
  const records = await listJobConfirmingAbsence(api, jobName, options.signal);
  if (!records.length) throw await jobNotFound(api, jobName, options.signal);
  let record = latestRecord(records, jobName);
  if (!waitForStatus) return { records, record };

  const schedule = new PollingSchedule(options.maxPollIntervalMs, options.minPollIntervalMs);
  const deadline = Date.now() + options.timeoutMs;
  let current = records;
  for (;;) {
    const status = record?.properties.status;
    if (status === waitForStatus) return { records: current, record };
    if (isFailureStatus(status) && !isFailureStatus(waitForStatus)) {
      throw new JobStateError(
        `Job '${jobName}' reached the failure status ${status} while waiting for ${waitForStatus}. The cluster said: ${record?.properties.jobOutput ?? "(no job output)"}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(
        `Timed out after ${Math.round(options.timeoutMs / 60_000)} minute(s) waiting for job '${jobName}' to reach ${waitForStatus}; last seen: ${describeRecord(record)}.`,
      );
    }
    options.onProgress?.(describeRecord(record));
    await sleep(Math.min(schedule.nextDelayMs(), Math.max(0, deadline - Date.now())), options.signal);
    current = await api.listJobs({ jobName, signal: options.signal });
    // A record briefly missing from the list is no answer: keep the last one seen.
    record = latestRecord(current, jobName) ?? record;
  }
}

/**
 * The job's records; when there are none, read twice more before believing it: a job can drop
 * out of the list for a moment, and "not found" fails the step.
 */
export async function listJobConfirmingAbsence(api: FlinkJobsApi, jobName: string, signal: AbortSignal | undefined): Promise<JobRecord[]> {
  for (const pause of [1000, 2000]) {
    const records = await api.listJobs({ jobName, signal });
    if (records.length) return records;
    await sleep(pause, signal);
  }
  return api.listJobs({ jobName, signal });
}

/** The error for a job that does not exist, naming the jobs that do. */
export async function jobNotFound(api: FlinkJobsApi, jobName: string, signal: AbortSignal | undefined, action?: string): Promise<JobStateError> {
  const names = [...new Set((await api.listJobs({ signal })).map((r) => r.properties.jobName).filter(Boolean))];
  const where = `cluster '${api.cluster.clusterName}' (pool '${api.cluster.clusterPoolName}')`;
  const existing = names.length ? `Jobs on the cluster: ${names.join(", ")}.` : "The cluster has no jobs.";
  return new JobStateError(
    action === "DELETE"
      ? `Job '${jobName}' does not exist on ${where}, so there is nothing to delete. ${existing}`
      : `Job '${jobName}' was not found on ${where}. ${existing}`,
  );
}
