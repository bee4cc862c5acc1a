/**
 * What Flink shows after a fault, read right before each decision (issue 19, client side), on a
 * real Flink: a Stop that is not waited for, checkpoints Flink has already discarded.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { runTask } from "../harness/agent";
import { startConnectProxy } from "../harness/connect-proxy";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest, useFlinkCluster } from "../../testbed/flink/mocha";
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
      workspace = workspaceWith({ "job.jar": jars.v1, "nomain/job.jar": jars.v1NoMainClass });
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

    const executions = async (name: string) => (await flinkGet<{ jobs: Array<{ jid: string; name: string; state: string }> }>(url, "/jobs/overview")).jobs.filter((j) => j.name === name);
    const savepointOf = async (jobId: string) => (await flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`)).latest.savepoint?.external_path;

    it("an Update whose new version is refused after the stop: lastSavepoint is the stop's, the message says the job is stopped and where its state is, no JobID is named; the re-run says where the job stands", async () => {
      const submit = await run("NEW", "partial-refused", { jarFile: "job.jar" });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const first = submit.outcome.job!.jobId!;
      const update = await run("UPDATE", "partial-refused", { jarFile: "nomain/job.jar" });
      assert.equal(update.outcome.actionResult, "FAILED");
      const savepoint = await savepointOf(first);
      assert.ok(savepoint && fs.existsSync(`${new URL(savepoint).pathname}/_metadata`), String(savepoint));
      assert.equal(update.outcome.job?.lastSavepoint, savepoint);
      assert.equal(update.outcome.job?.jobId, undefined, "a JobID Flink never had is named as the job's");
      assert.ok(update.outcome.failure!.includes(`The job is stopped; its state is in ${savepoint}`), update.outcome.failure);
      assert.deepEqual((await executions("partial-refused")).map((j) => [j.jid, j.state]), [[first, "FINISHED"]]);
      await assert.rejects(run("UPDATE", "partial-refused", { jarFile: "nomain/job.jar" }), new RegExp(`${first}\\) is FINISHED, not running: use FlinkJobStart`));
      assert.equal((await executions("partial-refused")).length, 1);
    });

    it("an Update cancelled after the stop, while the new version starts: the error carries lastSavepoint and the accepted JobID; the re-run starts nothing twice", async () => {
      const submit = await run("NEW", "partial-cancel", { jarFile: "job.jar" });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const first = submit.outcome.job!.jobId!;
      const pipeline = new AbortController();
      const watcher = (async () => {
        while ((await executions("partial-cancel")).length < 2) await new Promise((r) => setTimeout(r, 100));
        // Flink has the new run; its answer reaches the task well within these seconds.
        await new Promise((r) => setTimeout(r, 3000));
        pipeline.abort(new Error("cancelled by the pipeline"));
      })();
      const error = await runAction("UPDATE", "partial-cancel", { jarFile: "job.jar", parallelism: "64" }, { url, workingDirectory: workspace, signal: pipeline.signal }).then(
        () => assert.fail("the update ended"),
        (e: Error & { job?: { jobId?: string; lastSavepoint?: string } }) => e,
      );
      await watcher;
      const savepoint = await savepointOf(first);
      assert.equal(error.name, "CancelledError", error.message);
      assert.equal(error.job?.lastSavepoint, savepoint);
      assert.ok(error.message.includes(`its state is in ${savepoint}`), error.message);
      const second = (await executions("partial-cancel")).find((j) => j.jid !== first)!;
      assert.equal(error.job?.jobId, second.jid);
      assert.ok(error.message.includes(`JobID ${second.jid}`) && error.message.includes("The previous version is stopped"), error.message);
      // The re-run of the same step acts on the new execution only (waiting for slots it cannot get, it cannot take a savepoint): nothing is started twice.
      const again = await run("UPDATE", "partial-cancel", { jarFile: "job.jar", parallelism: "64" });
      assert.equal(again.outcome.actionResult, "FAILED");
      assert.match(again.outcome.failure ?? "", /stop-with-savepoint failed/);
      assert.equal(again.outcome.job?.jobId, second.jid);
      assert.equal((await executions("partial-cancel")).length, 2);
      await run("CANCEL", "partial-cancel");
    });

    it("a lastState update of a job with no completed checkpoint yet (a long interval) takes one first and restarts from it", async () => {
      const submit = await run("NEW", "no-checkpoint-yet", {
        jarFile: "job.jar",
        flinkConfiguration: "execution.checkpointing.interval=1h\nexecution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
      });
      assert.equal(submit.outcome.actionResult, "SUCCESS", submit.outcome.failure);
      const first = submit.outcome.job!.jobId!;
      // Flink 2.3 was seen to complete a first checkpoint right after the start all the same: then there is one to restore.
      const noneYet = (await flinkGet<Checkpoints>(url, `/jobs/${first}/checkpoints`)).latest.completed === null;
      const update = await run("LAST_STATE_UPDATE", "no-checkpoint-yet", { flinkConfiguration: "execution.checkpointing.interval=1h" });
      assert.equal(update.outcome.actionResult, "SUCCESS", update.outcome.failure);
      assert.equal(update.host.lines.some((l) => /no completed checkpoint yet: triggering one/.test(l)), noneYet, update.host.lines.join("\n"));
      const taken = (await flinkGet<Checkpoints>(url, `/jobs/${first}/checkpoints`)).latest.completed;
      assert.match(taken?.external_path ?? "", /\/chk-\d+$/);
      const restored = await flinkGet<{ latest: { restored: { external_path: string } | null } }>(url, `/jobs/${update.outcome.job!.jobId}/checkpoints`);
      assert.equal(restored.latest.restored?.external_path, taken!.external_path);
      assert.equal((await flinkGet<{ state: string }>(url, `/jobs/${update.outcome.job!.jobId}`)).state, "RUNNING");
      await run("CANCEL", "no-checkpoint-yet");
    });

    describe("the agent's proxy (bundled task)", () => {
      const PASSWORD = "proxy-test-Pa55word-never-in-clear";
      const status = (url: string, scheme: string, env: Record<string, string>, data: Record<string, string> = {}) =>
        runTask({
          task: "FlinkJobStatus",
          inputs: { target: "flinkRest", flinkConnection: "flink-conn" },
          connection: { id: "flink-conn", url, scheme, parameters: scheme === "UsernamePassword" ? { username: "ci", password: PASSWORD } : {}, data },
          env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace, ...env },
          timeoutMs: 120_000,
        });

      it("a loopback URL never goes through it: Basic credentials to http://127.0.0.1 stay on the machine", async () => {
        assert.ok(fs.existsSync("dist/tasks/FlinkJobStatus/index.js"), "run npm run build first");
        const proxy = await startConnectProxy();
        try {
          const run = await status(url, "UsernamePassword", { AGENT_PROXYURL: proxy.url });
          assert.equal(run.result, "Succeeded", run.resultMessage);
          assert.deepEqual(proxy.tunnels, [], "the loopback URL was tunnelled through the proxy");
          assert.deepEqual(proxy.forwarded, []);
        } finally {
          await proxy.close();
        }
      });

      it("credentials over http:// to another host are refused before any call when the proxy would carry them, allowInsecureHttp or not", async () => {
        const proxy = await startConnectProxy();
        try {
          for (let attempt = 0; attempt < 2; attempt++) {
            // The step, and its re-run: the same refusal, and nothing sent.
            const run = await status("http://flink.invalid:8081", "UsernamePassword", { AGENT_PROXYURL: proxy.url }, { allowInsecureHttp: "true" });
            assert.equal(run.result, "Failed");
            assert.match(run.resultMessage ?? "", /would send its credentials over plain http:\/\/ through the agent's proxy http:\/\/127\.0\.0\.1:\d+/);
            assert.deepEqual(proxy.tunnels, []);
          }
          // Without credentials, the same URL goes through the proxy as the agent says.
          const anonymous = await status("http://flink.invalid:8081", "None", { AGENT_PROXYURL: proxy.url });
          assert.equal(anonymous.result, "Failed");
          assert.ok(proxy.tunnels.includes("flink.invalid:8081"), `tunnels: ${proxy.tunnels.join(", ")}`);
        } finally {
          await proxy.close();
        }
      });
    });
  });

  describe(`Flink REST Start after the cluster lost the job's jar and executions, on Flink ${version}`, function () {
    this.timeout(240_000);
    // Ended jobs forgotten within seconds: what a JobManager restart without HA leaves, jars deleted aside.
    const flink = useFlinkCluster(version, { slots: 2, extraConfig: { "jobstore.expiration-time": 15 } });

    it("FlinkJobStart without jarFile asks for jarFile, not 'the job is unknown'; the re-run with jarFile restores the stop's savepoint", async () => {
      const url = flink.cluster.restUrl;
      const workspace = workspaceWith({ "job.jar": flink.jars.v1 });
      const run = (action: Parameters<typeof runAction>[0], inputs: Record<string, string> = {}) => runAction(action, "jm-lost", inputs, { url, workingDirectory: workspace });
      assert.equal((await run("NEW", { jarFile: "job.jar" })).outcome.actionResult, "SUCCESS");
      const stop = await run("STOP");
      assert.equal(stop.outcome.actionResult, "SUCCESS", stop.outcome.failure);
      const savepoint = stop.outcome.savepointPath!;
      for (const jar of (await flinkGet<{ files: Array<{ id: string }> }>(url, "/jars")).files) await fetch(`${url}/jars/${jar.id}`, { method: "DELETE" });
      for (let i = 0; i < 240 && (await flinkGet<{ jobs: unknown[] }>(url, "/jobs/overview")).jobs.length > 0; i++) await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual((await flinkGet<{ jobs: unknown[] }>(url, "/jobs/overview")).jobs, [], "Flink still lists the ended job");
      await assert.rejects(run("START", { savepointName: savepoint }), /has neither an execution nor the jar of job 'jm-lost'.*give 'jarFile'/);
      await assert.rejects(run("START"), /give 'jarFile' and 'savepointName'/);
      const start = await run("START", { savepointName: savepoint, jarFile: "job.jar" });
      assert.equal(start.outcome.actionResult, "SUCCESS", start.outcome.failure);
      const restored = await flinkGet<{ latest: { restored: { external_path: string } | null } }>(url, `/jobs/${start.outcome.job!.jobId}/checkpoints`);
      assert.equal(restored.latest.restored?.external_path, savepoint);
      // Straight to Flink: this cluster forgets the cancelled job within seconds, before a wait could see it CANCELED.
      await fetch(`${url}/jobs/${start.outcome.job!.jobId}?mode=cancel`, { method: "PATCH" });
      fs.rmSync(workspace, { recursive: true, force: true });
    });
  });
}
