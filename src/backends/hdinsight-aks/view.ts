import type { JobView } from "../../jobs/backend";
import { type ApiVersion, hasRunId } from "./actions";
import type { JobRecord } from "./job-record";

/** A record as the outputs show it. runId is "" where the api-version has run ids but the record lacks one. */
export function jobView(record: JobRecord | undefined, jobName: string, apiVersion: ApiVersion): JobView {
  const p = record?.properties ?? {};
  const view: JobView = { jobName };
  if (hasRunId(apiVersion)) view.runId = p.runId ?? "";
  if (p.jobId !== undefined) view.jobId = p.jobId;
  if (p.status !== undefined) view.jobStatus = p.status;
  if (p.jobOutput !== undefined) view.jobOutput = p.jobOutput;
  if (p.lastSavePoint !== undefined) view.lastSavepoint = p.lastSavePoint;
  return view;
}
