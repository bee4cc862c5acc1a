/**
 * A wait ends when Flink says the action is done. Flink answers GET /jobs/:jobid from an execution
 * graph it caches for web.refresh-interval (3 s by default), so a wait that read it saw a job
 * RUNNING or CANCELED up to 3 s late; the waits read GET /jobs/overview, which Flink answers from
 * the running job, and judge its task counts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type { JobOverview } from "../../src/backends/flink-rest/api";
import { judgeStarted } from "../../src/backends/flink-rest/judge";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { flinkGet, flinkJobState, forward, runAction, startServer, workspaceWith } from "./helpers";

const overview = (state: string, tasks?: Record<string, number>): JobOverview => ({ jid: "a".repeat(32), name: "orders", state, startTime: 1, endTime: -1, ...(tasks ? { tasks } : {}) });

describe("Flink REST: the start of a job judged from its overview entry", () => {
  it("RUNNING with every task running is started; a task still deploying is not", () => {
    assert.equal(judgeStarted(overview("RUNNING", { total: 2, running: 1, deploying: 1 })).done, false);
    assert.equal(judgeStarted(overview("RUNNING", { total: 2, created: 2, running: 0 })).seen, "job RUNNING (tasks: 2 CREATED)");
    const started = judgeStarted(overview("RUNNING", { total: 2, running: 2 }));
    assert.ok(started.done && started.ok);
    assert.equal(started.seen, "job RUNNING (tasks: 2 RUNNING)");
  });

  it("an entry without task counts, or with none, is not taken for a started job", () => {
    assert.equal(judgeStarted(overview("RUNNING")).done, false);
    assert.equal(judgeStarted(overview("RUNNING", { total: 0, running: 0 })).done, false);
  });

  it("FAILED and CANCELED end the wait as failures; FINISHED (a bounded job) as done", () => {
    assert.deepEqual(judgeStarted(overview("FAILED", { total: 1, failed: 1 })), { done: true, ok: false, failure: "the job FAILED", seen: "job FAILED (tasks: 1 FAILED)" });
    assert.equal(judgeStarted(overview("CANCELED", { total: 1, canceled: 1 })).done, true);
    const finished = judgeStarted(overview("FINISHED", { total: 1, finished: 1 }));
    assert.ok(finished.done && finished.ok);
  });
});

for (const version of flinkVersionsUnderTest()) {
  describe(`Flink REST waits read what Flink reports now, on Flink ${version}`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let proxy: Awaited<ReturnType<typeof startServer>>;
    let workspace: string;

    before(async function () {
      this.timeout(600_000);
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version });
      workspace = workspaceWith({ "job.jar": jars.v1 });
      // Passes every call to Flink and records it (startServer keeps "METHOD path").
      proxy = await startServer((req, res) => forward(`${cluster.restUrl}${req.url}`, req, res));
    });

    after(async () => {
      await proxy?.close();
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    /** The calls made after the first one matching `from`. */
    const callsAfter = (from: RegExp) => proxy.requests.slice(proxy.requests.findIndex((r) => from.test(r)) + 1);

    it("submit waits on the overview until every task runs, cancel until CANCELED; neither reads the cached job details", async () => {
      const options = { url: `${proxy.url}/`, workingDirectory: workspace };
      const submitted = await runAction("NEW", "waits-overview", { jarFile: "job.jar" }, options);
      assert.equal(submitted.outcome.actionResult, "SUCCESS");
      const jobId = submitted.outcome.job?.jobId ?? "";
      const onFlink = (await flinkGet<{ jobs: Array<{ jid: string; state: string; tasks: Record<string, number> }> }>(cluster.restUrl, "/jobs/overview")).jobs.find((j) => j.jid === jobId);
      assert.equal(onFlink?.state, "RUNNING");
      assert.equal(onFlink?.tasks["running"], onFlink?.tasks["total"]);
      const afterRun = callsAfter(/^POST \/jars\/.*\/run$/);
      assert.ok(afterRun.length > 0 && afterRun.every((r) => r === "GET /jobs/overview"), afterRun.join(", "));

      proxy.requests.length = 0;
      const cancelled = await runAction("CANCEL", "waits-overview", {}, options);
      assert.equal(cancelled.outcome.job?.jobStatus, "CANCELED");
      assert.equal(await flinkJobState(cluster.restUrl, jobId), "CANCELED");
      const afterCancel = callsAfter(/^PATCH \/jobs\/[0-9a-f]{32}\?mode=cancel$/);
      assert.ok(afterCancel.length > 0 && afterCancel.every((r) => r === "GET /jobs/overview"), afterCancel.join(", "));
    });
  });
}
