/**
 * What Flink shows after a fault, read right before each decision (issue 19, client side), on a
 * real Flink: a Stop that is not waited for, checkpoints Flink has already discarded.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { flinkGet, readStatus, runAction, runOutsideTheTasks, workspaceWith } from "./helpers";

const versions = flinkVersionsUnderTest();

interface Checkpoints {
  latest: { completed: { external_path?: string; discarded?: boolean } | null; savepoint: { external_path: string } | null };
}

for (const version of versions) {
  describe(`Flink REST client faults on Flink ${version}`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let workspace: string;
    let url: string;
    let jarPath: string;
    const run = (action: Parameters<typeof runAction>[0], jobName: string, inputs: Record<string, string> = {}, waitForCompletion = true) =>
      runAction(action, jobName, inputs, { url, workingDirectory: workspace, waitForCompletion });

    before(async function () {
      this.timeout(600_000);
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version });
      url = cluster.restUrl;
      workspace = workspaceWith({ "job.jar": jars.v1 });
      jarPath = jars.v1;
    });

    after(async () => {
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    it("FlinkJobStop with waitForCompletion false returns IN_PROGRESS once Flink took the stop; the job then stops with its savepoint", async () => {
      const submit = await run("NEW", "stop-no-wait", { jarFile: "job.jar" });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const jobId = submit.outcome.job!.jobId!;
      const stop = await run("STOP", "stop-no-wait", {}, false);
      assert.equal(stop.outcome.actionResult, "IN_PROGRESS");
      assert.equal(stop.outcome.job?.jobId, jobId);
      const ended = await readStatus("stop-no-wait", { url, waitForStatus: "FINISHED" });
      assert.equal(ended.job?.jobStatus, "FINISHED");
      const savepoint = (await flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`)).latest.savepoint?.external_path;
      assert.ok(savepoint && fs.existsSync(`${new URL(savepoint).pathname}/_metadata`), String(savepoint));
    });

    it("RE_LAUNCH never restores from a checkpoint Flink discarded (DELETE_ON_CANCELLATION): it refuses, and nothing is started", async () => {
      const submit = await run("NEW", "discarded", {
        jarFile: "job.jar",
        flinkConfiguration: "execution.checkpointing.interval=1s\nexecution.checkpointing.externalized-checkpoint-retention=DELETE_ON_CANCELLATION",
      });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const jobId = submit.outcome.job!.jobId!;
      for (let i = 0; i < 60 && !(await flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`)).latest.completed; i++) await new Promise((r) => setTimeout(r, 500));
      await run("CANCEL", "discarded");
      await new Promise((r) => setTimeout(r, 4000));
      const completed = (await flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`)).latest.completed;
      assert.equal(completed?.discarded, true, JSON.stringify(completed));
      assert.ok(!fs.existsSync(new URL(completed!.external_path!).pathname), "Flink kept the checkpoint");
      await assert.rejects(run("RE_LAUNCH", "discarded"), /knows no retained checkpoint or savepoint/);
      const jobs = (await flinkGet<{ jobs: Array<{ jid: string; name: string }> }>(url, "/jobs/overview")).jobs.filter((j) => j.name === "discarded");
      assert.deepEqual(jobs.map((j) => j.jid), [jobId], "a job was started from the discarded checkpoint");
      // The re-run of the same step ends the same way, safely.
      await assert.rejects(run("RE_LAUNCH", "discarded"), /knows no retained checkpoint or savepoint/);
    });

    it("a live job of the same name started elsewhere, while ours has ended, is a conflict: Status does not report ours, Submit starts nothing", async () => {
      const submit = await run("NEW", "same-name", { jarFile: "job.jar" });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const ours = submit.outcome.job!.jobId!;
      await run("CANCEL", "same-name");
      const stranger = await runOutsideTheTasks(url, jarPath, ["--job-name", "same-name"]);
      const live = async () => (await flinkGet<{ jobs: Array<{ jid: string; name: string; state: string }> }>(url, "/jobs/overview")).jobs.filter((j) => j.name === "same-name" && !["CANCELED", "FAILED", "FINISHED"].includes(j.state));
      await assert.rejects(readStatus("same-name", { url }), (e: Error) => e.message.includes(stranger) && e.message.includes(ours) && /started elsewhere/.test(e.message));
      for (let attempt = 0; attempt < 2; attempt++) {
        // The step, and its re-run: refused both times, and still only the stranger runs.
        await assert.rejects(run("NEW", "same-name", { jarFile: "job.jar" }), (e: Error) => e.message.includes(stranger) && /started elsewhere/.test(e.message));
        assert.deepEqual((await live()).map((j) => j.jid), [stranger]);
      }
      await fetch(`${url}/jobs/${stranger}?mode=cancel`, { method: "PATCH" });
    });
  });
}
