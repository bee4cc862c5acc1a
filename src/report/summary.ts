import type { Outputs } from "./outputs";

export interface SummaryInput {
  task: string;
  action?: string;
  cluster: { subscriptionId: string; resourceGroupName: string; clusterPoolName: string; clusterName: string };
  outputs: Outputs;
  durationMs: number;
  error?: string;
}

/** Table cells hold service text: keep it from breaking the table or becoming markup. */
function cell(text: string | undefined): string {
  if (!text) return "—";
  return text.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}

function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((t) => t.length));
  const f = "`".repeat(longest + 1);
  return `${f}text\n${text}\n${f}`;
}

/** The Markdown tab shown on the run for one step. */
export function renderSummary(s: SummaryInput): string {
  const o = s.outputs;
  const portal =
    `https://portal.azure.com/#resource/subscriptions/${encodeURIComponent(s.cluster.subscriptionId)}` +
    `/resourceGroups/${encodeURIComponent(s.cluster.resourceGroupName)}/providers/Microsoft.HDInsight/clusterpools/` +
    `${encodeURIComponent(s.cluster.clusterPoolName)}/clusters/${encodeURIComponent(s.cluster.clusterName)}/overview`;
  const rows: [string, string | undefined][] = [
    ["Job", o.jobName],
    ["Action", s.action],
    ["Result", o.actionResult ?? (s.error ? "FAILED" : undefined)],
    ["Job status", o.jobStatus],
    ["Job id", o.jobId],
    ["Run id", o.runId],
    ["Savepoint", o.savepointPath ?? o.lastSavepoint],
    ["Savepoints", o.savepointCount],
    ["Jobs", o.jobCount],
    ["Duration", `${(s.durationMs / 1000).toFixed(1)} s`],
  ];
  const lines = [
    `### ${cell(s.task)}${o.jobName ? `: ${cell(o.jobName)}` : ""}`,
    "",
    "| | |",
    "|---|---|",
    ...rows.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `| ${k} | ${cell(v)} |`),
    `| Cluster | [${cell(s.cluster.clusterName)}](${portal}) (pool ${cell(s.cluster.clusterPoolName)}, group ${cell(s.cluster.resourceGroupName)}) |`,
    "",
  ];
  if (o.jobOutput) lines.push("**Job output**", "", fence(o.jobOutput), "");
  if (s.error) lines.push("**Error**", "", fence(s.error), "");
  return lines.join("\n");
}
