/**
 * The run summary's facts from the Flink cluster, read after the action: a link to the job in
 * Flink's web UI, and the job's recent executions with their savepoints and restores.
 */
import type { ExecutionFacts, SummaryFacts } from "../../jobs/backend";
import { type FlinkApi, isLive, type JobOverview } from "./api";
import { AmbiguousJobError, findExecutions, jobTag } from "./identity";

/** Executions shown, newest first: the summary is a page, not an archive. */
const MAX_EXECUTIONS = 5;

/** Flink's web UI page of one job (the UI is served where the REST API is: same base URL). */
export function flinkJobLink(baseUrl: string, jobId: string, state: string | undefined): string {
  return `${baseUrl.replace(/\/+$/, "")}/#/job/${state && !isLive(state) ? "completed" : "running"}/${jobId}/overview`;
}

export async function flinkSummaryFacts(api: FlinkApi, baseUrl: string, job: { jobName?: string; jobId?: string; jobStatus?: string }, signal: AbortSignal): Promise<SummaryFacts> {
  const facts: SummaryFacts = { links: [["Flink web UI", `${baseUrl.replace(/\/+$/, "")}/#/overview`]] };
  if (!job.jobName && !job.jobId) return facts;
  const all = await api.jobsOverview(signal);
  let mine: JobOverview[];
  let ours = true;
  try {
    const found = job.jobName ? findExecutions(all, job.jobName) : { executions: [], ours: true };
    mine = found.executions;
    ours = found.ours;
  } catch (error) {
    if (!(error instanceof AmbiguousJobError)) throw error;
    mine = all.filter((j) => j.name === job.jobName || (job.jobName && j.jid.startsWith(jobTag(job.jobName))));
  }
  if (job.jobId && !mine.some((j) => j.jid === job.jobId)) {
    const current = all.find((j) => j.jid === job.jobId);
    if (current) mine = [current, ...mine];
  }
  mine = [...mine].sort((a, b) => b.startTime - a.startTime).slice(0, MAX_EXECUTIONS);
  facts.executions = [];
  for (const exec of mine) {
    const row: ExecutionFacts = { jobId: exec.jid, name: exec.name, state: exec.state, link: flinkJobLink(baseUrl, exec.jid, exec.state) };
    if (exec.startTime > 0) row.startTime = exec.startTime;
    if (exec.endTime > 0) row.endTime = exec.endTime;
    const checkpoints = await api.checkpoints(exec.jid, signal).catch(() => undefined);
    if (checkpoints) {
      row.savepoints = checkpoints.historySavepoints.length;
      if (checkpoints.latestRestored?.externalPath) row.restoredFrom = checkpoints.latestRestored.externalPath;
    }
    facts.executions.push(row);
  }
  const current = job.jobId ?? mine[0]?.jid;
  if (current) facts.links.unshift(["This job in Flink's web UI", flinkJobLink(baseUrl, current, job.jobStatus ?? mine.find((m) => m.jid === current)?.state)]);
  if (job.jobName) {
    facts.foundBy = ours
      ? `The tasks find job '${job.jobName}' by the JobIDs they choose for it (starting ${jobTag(job.jobName)}); Flink shows the name the jar gives its job.`
      : `Job '${job.jobName}' was started outside these tasks: found as the one live Flink job of that name.`;
  }
  return facts;
}
