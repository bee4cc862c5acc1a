import type { FlinkAction } from "./actions";

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

export type ActionResult = "SUCCESS" | "FAILED" | "IN_PROGRESS";

export function isTerminal(result: string | undefined): result is "SUCCESS" | "FAILED" {
  return result === "SUCCESS" || result === "FAILED";
}

/** Records of one job name, in the order the service listed them. */
export function recordsNamed(records: JobRecord[], jobName: string): JobRecord[] {
  return records.filter((r) => r.properties?.jobName === jobName);
}

/** The record an action on this job name acts on: the latest listed. */
export function latestRecord(records: JobRecord[], jobName: string): JobRecord | undefined {
  const named = recordsNamed(records, jobName);
  return named[named.length - 1];
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

export function describeRecord(record: JobRecord | undefined): string {
  if (!record) return "no record of the job was listed";
  const p = record.properties;
  return `action ${p.action ?? "?"}, actionResult ${p.actionResult ?? "?"}, status ${p.status ?? "?"}`;
}

export function isAction(record: JobRecord | undefined, action: FlinkAction): boolean {
  return record?.properties.action === action;
}
