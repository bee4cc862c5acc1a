import type { Outputs } from "./outputs";

export interface SummaryInput {
  task: string;
  action?: string;
  /** Where the job lives, as the backend describes it: (label, value); an https value becomes a link. */
  where: Array<[string, string]>;
  outputs: Outputs;
  durationMs: number;
  error?: string;
  /** Things the reader should know about the outputs (e.g. a list cut short). */
  notes?: string[];
}

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

/** The Markdown tab shown on the run for one step. */
export function renderSummary(s: SummaryInput): string {
  const o = s.outputs;
  const rows: [string, string | undefined][] = [
    ["Job", cell(o.jobName)],
    ["Action", cell(s.action)],
    ["Result", cell(o.actionResult ?? (s.error ? "FAILED" : undefined))],
    ["Job status", cell(o.jobStatus)],
    ["Job id", o.jobId && code(o.jobId)],
    ["Run id", o.runId && code(o.runId)],
    ["Savepoint", (o.savepointPath ?? o.lastSavepoint) && code(o.savepointPath ?? o.lastSavepoint)],
    ["Savepoints", o.savepointCount],
    ["Jobs", o.jobCount],
    ["Duration", `${(s.durationMs / 1000).toFixed(1)} s`],
  ];
  const lines = [
    `### ${cell(s.task)}${o.jobName ? `: ${cell(o.jobName)}` : ""}`,
    "",
    "| Field | Value |",
    "|---|---|",
    ...rows.filter(([, v]) => v !== undefined && v !== "" && v !== "—").map(([k, v]) => `| ${k} | ${v} |`),
    ...s.where.map(([label, value]) => `| ${cell(label)} | ${/^https:\/\/[^\s()]+$/.test(value) ? `[open](${value})` : cell(value)} |`),
    "",
  ];
  for (const note of s.notes ?? []) lines.push(`*${cell(note)}*`, "");
  if (o.jobs) lines.push(...jobsTable(o.jobs));
  if (o.savepoints) lines.push(...savepointsTable(o.savepoints, Number(o.savepointCount)));
  if (o.jobOutput) lines.push("**Job output**", "", fence(o.jobOutput), "");
  if (s.error) lines.push("**Error**", "", fence(s.error), "");
  return lines.join("\n");
}

const MAX_JOB_ROWS = 50;

/** FlinkJobStatus: the records read, one row each. */
function jobsTable(json: string): string[] {
  let jobs: Record<string, unknown>[];
  try {
    jobs = JSON.parse(json) as Record<string, unknown>[];
  } catch {
    return [];
  }
  if (!Array.isArray(jobs) || !jobs.length) return [];
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const rows = jobs
    .slice(0, MAX_JOB_ROWS)
    .map((j) => `| ${cell(text(j["jobName"]))} | ${cell(text(j["status"]))} | ${cell(text(j["action"]))} | ${cell(text(j["actionResult"]))} | ${code(text(j["runId"]))} |`);
  const more = jobs.length > MAX_JOB_ROWS ? [`… and ${jobs.length - MAX_JOB_ROWS} more (see the \`jobs\` output variable).`, ""] : [];
  return ["**Jobs**", "", "| Job | Status | Last action | Result | Run id |", "|---|---|---|---|---|", ...rows, "", ...more];
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
