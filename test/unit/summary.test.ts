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

describe("run summary on a Flink cluster", () => {
  const flinkWhere: Array<[string, string]> = [["Flink REST", "http://flink.example:8081/"], ["Service connection", "id 8c2d7e41 (None)"]];
  const jobId = "a1b2c3d4000000000000000000000001";

  it("links the job in Flink's web UI, lists its executions, Deploy's decision, digest and notes, and a timeline", async () => {
    const md = renderSummary({
      task: "FlinkJobDeploy",
      target: "flinkRest",
      action: "NEW",
      where: flinkWhere,
      durationMs: 30_000,
      outputs: { jobName: "orders", actionResult: "SUCCESS", jobStatus: "RUNNING", jobId, deployAction: "upgraded", jarSha256: "ab".repeat(32), jarId: "x_orders.jar", previousSavepoint: "file:///sp/savepoint-a1b2c3-000000000001" },
      notes: ["Health: RUNNING for 60 s without a restart, a checkpoint completed"],
      timeline: [
        { atMs: 100, text: "Deploying orders-1.0.jar" },
        { atMs: 29_000, text: "Job is healthy" },
      ],
      facts: {
        links: [["This job in Flink's web UI", `http://flink.example:8081/#/job/running/${jobId}/overview`]],
        executions: [
          { jobId, name: "CarTopSpeedWindowingExample", state: "RUNNING", startTime: Date.UTC(2026, 0, 2, 3, 4, 5), savepoints: 0, restoredFrom: "file:///sp/savepoint-a1b2c3-000000000001", link: `http://flink.example:8081/#/job/running/${jobId}/overview` },
          { jobId: "a1b2c3d4000000000000000000000000", name: "CarTopSpeedWindowingExample", state: "FINISHED", savepoints: 1 },
        ],
        foundBy: "The tasks find job 'orders' by the JobIDs they choose for it (starting a1b2c3d4).",
      },
    });
    const html = await render(md);
    assert.match(html, new RegExp(`<a href="http://flink\\.example:8081/#/job/running/${jobId}/overview">This job in Flink&#39;s web UI</a>`));
    assert.match(html, /<td>Deploy decision<\/td>\s*<td><code>upgraded<\/code><\/td>/);
    assert.match(html, /<td>Jar SHA-256<\/td>\s*<td><code>(ab){32}<\/code><\/td>/);
    assert.match(html, /<td>Previous savepoint \(rollback point\)<\/td>/);
    assert.match(html, /Health: RUNNING for 60 s without a restart/);
    assert.match(html, /<td>CarTopSpeedWindowingExample<\/td>\s*<td>RUNNING<\/td>\s*<td>2026-01-02 03:04:05<\/td>/);
    assert.match(html, /Timeline[\s\S]*\+29\.0 s ·+●·* Job is healthy/);
    assert.doesNotMatch(html, /Run id/);
  });

  it("FlinkJobStatus lists Flink's jobs with Flink's columns, never an empty HDInsight-shaped table", async () => {
    const jobs = [{ jid: jobId, name: "Orders", state: "RUNNING", "start-time": Date.UTC(2026, 0, 2), "end-time": -1 }];
    const md = renderSummary({ task: "FlinkJobStatus", target: "flinkRest", where: flinkWhere, durationMs: 300, outputs: { jobs: JSON.stringify(jobs), jobCount: "1" } });
    assert.doesNotMatch(md, /\| — \| — \| — \| — \| — \|/);
    const html = await render(md);
    assert.match(html, new RegExp(`<td><code>${jobId}</code></td>\\s*<td>Orders</td>\\s*<td>RUNNING</td>\\s*<td>2026-01-02 00:00:00</td>\\s*<td>—</td>`));
  });
});
