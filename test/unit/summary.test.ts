import assert from "node:assert/strict";
import { renderSummary } from "../../src/report/summary";

import { HdInsightBackend } from "../../src/backends/hdinsight-aks";
import type { JobsApi } from "../../src/backends/hdinsight-aks/jobs-api";

// Where the job lives, as the HDInsight backend describes it for the summary.
const cluster = { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1" };
const where = new HdInsightBackend({ cluster, apiVersion: "2024-05-01-preview" } as JobsApi).describe();

/** marked is an ES module; this file is CommonJS. */
async function render(markdown: string): Promise<string> {
  const { marked } = await import("marked");
  return marked.parse(markdown);
}

describe("run summary", () => {
  it("renders a two-column table with ids and paths as code, never as links", async () => {
    const path = "abfss://state@acct.dfs.core.windows.net/sp/savepoint-25e318-4394ca9ac779";
    const md = renderSummary({ task: "FlinkJobStop", action: "STOP", where, durationMs: 9200, outputs: { jobName: "orders", actionResult: "SUCCESS", jobStatus: "STOPPED", jobId: "25e318907f786a2c6aee392df6580035", savepointPath: path, jobOutput: `Savepoint completed. Path: ${path}` } });
    const html = await render(md);
    assert.match(html, /<th>Field<\/th>\s*<th>Value<\/th>/);
    assert.match(html, new RegExp(`<td><code>${path.replace(/[.\\/]/g, "\\$&")}</code></td>`));
    assert.doesNotMatch(html, /mailto:/);
    assert.match(html, /<td>Duration<\/td>\s*<td>9\.2 s<\/td>/);
    assert.match(html, /portal\.azure\.com\/#resource\/subscriptions\/00000000-0000-0000-0000-000000000001\/resourceGroups\/rg\/providers\/Microsoft\.HDInsight\/clusterpools\/pool\/clusters\/c1/);
  });

  it("lists the jobs a status read found, one row each", async () => {
    const jobs = [
      { jobName: "orders", status: "RUNNING", action: "NEW", actionResult: "SUCCESS", runId: "job-c5d-4b48-abba-5ee598dbd653" },
      { jobName: "a|b", status: "STOPPED", action: "STOP", actionResult: "SUCCESS" },
    ];
    const html = await render(renderSummary({ task: "FlinkJobStatus", where, durationMs: 200, outputs: { jobs: JSON.stringify(jobs), jobCount: "2" } }));
    assert.match(html, /<td>orders<\/td>\s*<td>RUNNING<\/td>\s*<td>NEW<\/td>\s*<td>SUCCESS<\/td>\s*<td><code>job-c5d-4b48-abba-5ee598dbd653<\/code><\/td>/);
    assert.match(html, /<td>a\|b<\/td>\s*<td>STOPPED<\/td>/);
  });

  it("keeps service text from breaking the table or becoming markup", async () => {
    const md = renderSummary({ task: "FlinkJobCancel", action: "CANCEL", where, durationMs: 1000, outputs: { jobName: "x", jobStatus: "A|B <script>alert(1)</script>", jobOutput: "```\n<img src=x onerror=alert(1)>\n```" }, error: "boom | [link](javascript:alert(1))" });
    const html = await render(md);
    assert.doesNotMatch(html, /<script>|<img /);
    assert.doesNotMatch(html, /href="javascript:/);
    assert.match(html, /<td>A\|B &lt;script&gt;/);
  });
});
