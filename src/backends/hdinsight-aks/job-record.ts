import type { ActionResult } from "../../jobs/backend";

/** `FlinkJobProperties` as the service returns them; read-only fields may be missing. */
export interface JobProperties {
  jobType?: string;
  runId?: string;
  jobName?: string;
  jobJarDirectory?: string;
  jarName?: string;
  entryClass?: string;
  args?: string;
  savePointName?: string;
  action?: string;
  flinkConfiguration?: Record<string, string>;
  jobId?: string;
  status?: string;
  jobOutput?: string;
  actionResult?: string;
  lastSavePoint?: string;
  [other: string]: unknown;
}

export interface JobRecord {
  id?: string;
  properties: JobProperties;
}

export type { ActionResult };

/**
 * The statuses HDInsight on AKS is known to report (the API has no enum: RUNNING, STOPPED,
 * JOB_LAUNCH_FAILED and STOP-FAILED were seen; CANCELED and FAILED are Flink's own words).
 */
export const KNOWN_STATUSES = ["RUNNING", "STOPPED", "CANCELED", "FAILED", "JOB_LAUNCH_FAILED", "STOP-FAILED"] as const;

export function isTerminal(result: string | undefined): result is "SUCCESS" | "FAILED" {
  return result === "SUCCESS" || result === "FAILED";
}

/** Records of one job name, in the order the service listed them (an order nobody documented). */
export function recordsNamed(records: JobRecord[], jobName: string): JobRecord[] {
  return records.filter((r) => r.properties?.jobName === jobName);
}

/** A record that runs or has an action under way: the one record of a name that matters now. */
export function isLive(record: JobRecord): boolean {
  return record.properties.status === "RUNNING" || record.properties.actionResult === "IN_PROGRESS";
}

/**
 * The record of a job name an action acts on and a status read reports. The list's order is not
 * documented, so it is not "the last listed": a live record (running, or with an action under
 * way) first; else the last listed, the service's order being the only hint left.
 */
export function currentRecord(records: JobRecord[], jobName: string): JobRecord | undefined {
  const named = recordsNamed(records, jobName);
  return named.find(isLive) ?? named[named.length - 1];
}

/** Identity of a record across reads: its runId where the API has one, else its id. */
export function recordKey(record: JobRecord): string {
  return record.properties.runId ?? record.id ?? "";
}

/**
 * Everything an action changes in a record. A record whose fingerprint is the one read before
 * the POST may still be the previous action's result (the stale window).
 */
export function fingerprint(record: JobRecord | undefined): string {
  if (!record) return "";
  const p = record.properties;
  return JSON.stringify([p.runId, p.action, p.actionResult, p.status, p.jobId, p.jobOutput, p.lastSavePoint]);
}

/** A record that says nothing of its state: no status and no actionResult (seen in a real list). */
export function isSilent(record: JobRecord): boolean {
  return record.properties.status === undefined && record.properties.actionResult === undefined;
}

export function describeRecord(record: JobRecord | undefined): string {
  if (!record) return "no record of the job was listed";
  const p = record.properties;
  return `action ${p.action ?? "?"}, actionResult ${p.actionResult ?? "?"}, status ${p.status ?? "?"}${p.runId ? ` (runId ${p.runId})` : ""}`;
}
