import type { SummaryFacts, Target } from "../jobs/backend";
import type { Outputs } from "./outputs";

/** One line the step wrote to the log, with its time since the step began. */
export interface TimelineEntry {
  atMs: number;
  text: string;
}

export interface SummaryInput {
  task: string;
  /** The kind of cluster: the summary speaks its language (Flink's JobIDs, states and web UI). */
  target?: Target;
  action?: string;
  /** Where the job lives, as the backend describes it: (label, value); an https value becomes a link. */
  where: Array<[string, string]>;
  outputs: Outputs;
  durationMs: number;
  error?: string;
  /** Things the reader should know about the outputs (e.g. a list cut short), and what the action saw and decided. */
  notes?: string[];
  /** What the step told the log, in order: shown as a timeline. */
  timeline?: TimelineEntry[];
  /** What the cluster shows about the job (links, executions), read after the action. */
  facts?: SummaryFacts;
}

/** Timeline lines shown: the first and the last ones when a step said more. */
const MAX_TIMELINE = 24;

/** Table cells hold service text: keep it from breaking the table or becoming markup. */
function cell(text: string | undefined): string {
  if (!text) return "—";
  return text.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}

/** Ids and paths as code: never turned into links (abfss://x@y reads as an e-mail address). */
function code(text: string | undefined): string {
  if (!text) return "—";
  const ticks = "`".repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((t) => t.length)) + 1);
  return `${ticks}${text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|")}${ticks}`;
}

function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((t) => t.length));
  const f = "`".repeat(longest + 1);
  return `${f}text\n${text}\n${f}`;
}

/** A link only to a plain http(s) URL (no spaces or parentheses that would end the Markdown link early). */
function link(label: string, url: string): string {
  return /^https?:\/\/[^\s()<>]+$/.test(url) ? `[${cell(label)}](${url})` : cell(url);
}

/** The Markdown tab shown on the run for one step. */
export function renderSummary(s: SummaryInput): string {
  const o = s.outputs;
  const flink = s.target === "flinkRest";
  const rows: [string, string | undefined][] = [
    ["Job", cell(o.jobName)],
    ["Action", cell(s.action)],
    ["Result", cell(o.actionResult ?? (s.error ? "FAILED" : undefined))],
    ["Deploy decision", o.deployAction && code(o.deployAction)],
    // Flink's state now, as the executions read after the action show it, else the output's.
    [flink ? "Flink job state" : "Job status", cell(s.facts?.executions?.find((e) => e.jobId === o.jobId)?.state ?? o.jobStatus)],
    [flink ? "JobID" : "Job id", o.jobId && code(o.jobId)],
    ["Run id", o.runId && code(o.runId)],
    ["Jar id", o.jarId && code(o.jarId.length > 60 ? `${o.jarId.slice(0, 40)}…${o.jarId.slice(-16)}` : o.jarId)],
    ["Jar", o.jarPath && code(o.jarPath)],
    ["Jar SHA-256", o.jarSha256 && code(o.jarSha256)],
    ["Savepoint", (o.savepointPath ?? o.lastSavepoint) && code(o.savepointPath ?? o.lastSavepoint)],
    ["Previous savepoint (rollback point)", o.previousSavepoint && code(o.previousSavepoint)],
    ["Savepoints", o.savepointCount],
    ["Jobs", o.jobCount],
    ["Duration", `${(s.durationMs / 1000).toFixed(1)} s`],
  ];
  const links = s.facts?.links ?? [];
  const lines = [
    `### ${cell(s.task)}${o.jobName ? `: ${cell(o.jobName)}` : ""}`,
    "",
    ...(links.length ? [links.map(([label, url]) => link(label, url)).join(" · "), ""] : []),
    "| Field | Value |",
    "|---|---|",
    ...rows.filter(([, v]) => v !== undefined && v !== "" && v !== "—").map(([k, v]) => `| ${k} | ${v} |`),
    ...s.where.map(([label, value]) => `| ${cell(label)} | ${/^https:\/\/[^\s()]+$/.test(value) ? `[open](${value})` : cell(value)} |`),
    "",
  ];
  for (const note of s.notes ?? []) lines.push(`*${cell(note)}*`, "");
  if (s.facts?.executions?.length) lines.push(...executionsTable(s.facts));
  if (o.jobs) lines.push(...(flink ? flinkJobsTable(o.jobs) : jobsTable(o.jobs)));
  if (o.savepoints) lines.push(...savepointsTable(o.savepoints, Number(o.savepointCount)));
  if (o.jobOutput) lines.push("**Job output**", "", fence(o.jobOutput), "");
  if (s.error) lines.push("**Error**", "", fence(s.error), "");
  if (s.timeline?.length) lines.push(...timelineBlock(s.timeline, s.durationMs));
  return lines.join("\n");
}

function when(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "") : "—";
}

/** The job's executions as Flink lists them: one row each, linked to Flink's web UI. */
function executionsTable(facts: SummaryFacts): string[] {
  const rows = facts.executions!.map(
    (e) =>
      `| ${e.link ? link(e.jobId, e.link) : code(e.jobId)} | ${cell(e.name)} | ${cell(e.state)} | ${when(e.startTime)} | ${when(e.endTime)} | ${e.savepoints ?? "—"} | ${e.restoredFrom ? code(e.restoredFrom) : "—"} |`,
  );
  return [
    "**Executions on the cluster** (newest first)",
    "",
    "| JobID | Name in Flink | State | Started (UTC) | Ended (UTC) | Savepoints | Restored from |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...(facts.foundBy ? [`*${cell(facts.foundBy)}*`, ""] : []),
  ];
}

/** FlinkJobStatus on Flink: the jobs as Flink's /jobs/overview lists them. */
function flinkJobsTable(json: string): string[] {
  const jobs = parseJobs(json);
  if (!jobs.length) return [];
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const time = (v: unknown) => (typeof v === "number" && v > 0 ? when(v) : "—");
  const rows = jobs.slice(0, MAX_JOB_ROWS).map((j) => `| ${code(text(j["jid"]))} | ${cell(text(j["name"]))} | ${cell(text(j["state"]))} | ${time(j["start-time"])} | ${time(j["end-time"])} |`);
  return ["**Jobs**", "", "| JobID | Name in Flink | State | Started (UTC) | Ended (UTC) |", "|---|---|---|---|---|", ...rows, "", ...moreJobs(jobs.length)];
}

/** The step's log lines in time: a text timeline (Azure DevOps' summary Markdown does not draw pictures). */
function timelineBlock(timeline: TimelineEntry[], durationMs: number): string[] {
  const shown = timeline.length > MAX_TIMELINE ? [...timeline.slice(0, MAX_TIMELINE / 2), undefined, ...timeline.slice(-MAX_TIMELINE / 2)] : timeline;
  const width = 20;
  const bar = (atMs: number) => {
    const at = durationMs > 0 ? Math.min(width - 1, Math.floor((atMs / durationMs) * width)) : 0;
    return `${"·".repeat(at)}●${"·".repeat(width - 1 - at)}`;
  };
  const text = shown.map((e) => (e ? `${`+${(e.atMs / 1000).toFixed(1)} s`.padStart(9)} ${bar(e.atMs)} ${e.text.replace(/\r?\n/g, " ").slice(0, 160)}` : "        … (the log has every line)")).join("\n");
  return ["**Timeline**", "", fence(text), ""];
}

const MAX_JOB_ROWS = 50;

/** FlinkJobStatus: the records read, one row each. */
function parseJobs(json: string): Record<string, unknown>[] {
  try {
    const jobs = JSON.parse(json) as unknown;
    return Array.isArray(jobs) ? (jobs as Record<string, unknown>[]) : [];
  } catch {
    return [];
  }
}

function moreJobs(total: number): string[] {
  return total > MAX_JOB_ROWS ? [`… and ${total - MAX_JOB_ROWS} more (see the \`jobs\` output variable).`, ""] : [];
}

function jobsTable(json: string): string[] {
  const jobs = parseJobs(json);
  if (!jobs.length) return [];
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const rows = jobs
    .slice(0, MAX_JOB_ROWS)
    .map((j) => `| ${cell(text(j["jobName"]))} | ${cell(text(j["status"]))} | ${cell(text(j["action"]))} | ${cell(text(j["actionResult"]))} | ${code(text(j["runId"]))} |`);
  return ["**Jobs**", "", "| Job | Status | Last action | Result | Run id |", "|---|---|---|---|---|", ...rows, "", ...moreJobs(jobs.length)];
}

/** FlinkSavepoint list and prune: the savepoints, newest first, one row each. */
function savepointsTable(json: string, total: number): string[] {
  let savepoints: Record<string, unknown>[];
  try {
    savepoints = JSON.parse(json) as Record<string, unknown>[];
  } catch {
    return [];
  }
  if (!Array.isArray(savepoints) || !savepoints.length || typeof savepoints[0] !== "object") return [];
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const yesNo = (v: unknown) => (v === true ? "yes" : v === false ? "no" : undefined);
  const rows = savepoints
    .slice(0, MAX_JOB_ROWS)
    .map((s) => `| ${code(text(s["path"]))} | ${cell(text(s["time"]))} | ${cell(text(s["origin"]))} | ${code(text(s["jobId"]))} | ${cell(yesNo(s["restoredByLive"]))} |`);
  const shown = Math.min(savepoints.length, MAX_JOB_ROWS);
  const more = total > shown ? [`… and ${total - shown} more (see the \`savepoints\` output variable; savepointCount counts them all).`, ""] : [];
  return ["**Savepoints**", "", "| Path | Time | Origin | Execution | Restored by the live job |", "|---|---|---|---|---|", ...rows, "", ...more];
}
