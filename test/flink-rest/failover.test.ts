/**
 * The faults real clusters have, against a real Flink with ZooKeeper JobManager high availability,
 * through the bundled tasks (the agent harness): the JobManager killed and started again, and the
 * REST API unreachable for a while (a loopback TCP forwarder the test interrupts), each in the
 * middle of a task's wait. A task ends right, or fails saying where the job stands; never two
 * jobs, never a savepoint on disk that no output names; each failure ends with the step's re-run.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { jobTag } from "../../src/backends/flink-rest/identity";
import { flinkVersionsUnderTest, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { runTask, type TaskRun } from "../harness/agent";
import { startTcpForwarder, type TcpForwarder } from "../harness/tcp-forwarder";
import { flinkGet, workspaceWith } from "./helpers";

/** REST outage length: the 10-60 s, at its short end to keep CI time. */
const OUTAGE_MS = 12_000;
const TERMINAL = ["FINISHED", "CANCELED", "FAILED"];

type Overview = { jobs: Array<{ jid: string; name: string; state: string }> };
type Checkpoints = { counts: { in_progress: number }; latest: { savepoint: { external_path: string } | null } };

const localPath = (uri: string) => fileURLToPath(new URL(uri.replace(/^file:\/(?!\/)/, "file:///")));
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const version of flinkVersionsUnderTest()) {
  describe(`Failover and REST outages on Flink ${version} with JobManager HA (bundled tasks)`, function () {
    this.timeout(480_000);
    // Shared with the HA test bed suite (test/testbed/ha.test.ts): one HA cluster per version.
    const flink = useSharedFlinkCluster(version, { ha: true, checkpointIntervalMs: 1000 });
    let workspace: string;
    let forwarder: TcpForwarder;

    before(async () => {
      assert.ok(fs.existsSync("dist/tasks/FlinkJobSubmit/index.js"), "run npm run build first");
      workspace = workspaceWith({ "job.jar": flink.jars.v1 });
      forwarder = await startTcpForwarder(flink.cluster.restPort);
    });
    // A failed test must not leave its job holding slots the next one needs: cancel, straight on Flink.
    afterEach(async function () {
      this.timeout(120_000);
      const live = (await flinkGet<Overview>(flink.cluster.restUrl, "/jobs/overview")).jobs.filter((j) => !TERMINAL.includes(j.state));
      for (const job of live) await fetch(`${flink.cluster.restUrl}/jobs/${job.jid}?mode=cancel`, { method: "PATCH" });
      for (const job of live) await untilTerminal(job.jid);
    });
    after(async () => {
      await forwarder?.close();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    const step = (task: string, jobName: string, inputs: Record<string, string> = {}): Promise<TaskRun> => runTask({
      task,
      inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "4", ...inputs },
      connection: { id: "flink-conn", url: forwarder.url, scheme: "None", parameters: {}, data: {} },
      env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
      timeoutMs: 360_000,
    });
    const explain = (run: TaskRun) => `${run.result}: ${run.resultMessage}\n${run.visibleLog}`;
    // Read from Flink itself, not through the forwarder.
    const jobsOf = async (jobName: string) => (await flinkGet<Overview>(flink.cluster.restUrl, "/jobs/overview")).jobs.filter((j) => j.jid.startsWith(jobTag(jobName)));
    const liveJobsOf = async (jobName: string) => (await jobsOf(jobName)).filter((j) => !TERMINAL.includes(j.state));
    const untilJob = async (jobId: string, what: string, check: (state: string) => boolean) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const job = (await flinkGet<Overview>(flink.cluster.restUrl, "/jobs/overview")).jobs.find((j) => j.jid === jobId);
        if (job && check(job.state)) return;
        if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job?.state ?? "not listed"}, not ${what}`);
        await delay(500);
      }
    };
    const untilJobState = (jobId: string, state: string) => untilJob(jobId, state, (s) => s === state);
    const untilTerminal = (jobId: string) => untilJob(jobId, "ended", (s) => TERMINAL.includes(s));
    /** The completed savepoints (folders with _metadata) in a directory. */
    const savepointsOnDisk = (dir: string) =>
      fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)).filter((p) => fs.existsSync(path.join(p, "_metadata"))).sort() : [];
    /** The JobManager killed (SIGKILL) and started again with the same config; jobs recover from ZooKeeper. */
    const failover = async () => {
      await flink.cluster.killJobManager();
      await flink.cluster.restartJobManager();
    };
    /** The REST API unreachable for OUTAGE_MS while the JobManager runs on. */
    const outage = async (during: () => Promise<void> = async () => undefined) => {
      await forwarder.interrupt();
      try {
        await Promise.all([delay(OUTAGE_MS), during()]);
      } finally {
        await forwarder.resume();
      }
    };
    /** Waits until the task has sent `first`, then made `polls` more reads of the job. */
    const reached = async (first: RegExp, polls: number, from: number) => {
      await forwarder.waitForRequest(first, { from });
      const after = forwarder.requests.length;
      for (let seen = 0; seen < polls;) {
        await delay(200);
        seen = forwarder.requests.slice(after).filter((r) => /^GET \/jobs\//.test(r)).length;
      }
    };
    const submitted = async (jobName: string, inputs: Record<string, string> = {}) => {
      const submit = await step("FlinkJobSubmit", jobName, { jarFile: "job.jar", ...inputs });
      assert.equal(submit.result, "Succeeded", explain(submit));
      return submit.outputs["jobId"]!;
    };
    /** A Submit re-run against the job it started: refused naming that job, and still one job. */
    const submitRerunEndsRight = async (jobName: string, jobId: string) => {
      const again = await step("FlinkJobSubmit", jobName, { jarFile: "job.jar" });
      assert.equal(again.result, "Failed", explain(again));
      assert.match(again.resultMessage ?? "", new RegExp(`already RUNNING \\(JobID ${jobId}\\)`));
      assert.deepEqual((await jobsOf(jobName)).map((j) => j.jid), [jobId], "one job, never two");
    };
    /** Submit with `fault` once the run is sent: one job, RUNNING, the step's jobId; the re-run refused. */
    const submitThrough = async (jobName: string, fault: () => Promise<void>) => {
      const from = forwarder.requests.length;
      const submit = step("FlinkJobSubmit", jobName, { jarFile: "job.jar" });
      await reached(/^POST \/jars\/[^/]+\/run$/, 1, from);
      await fault();
      const run = await submit;
      const jobs = await jobsOf(jobName);
      assert.equal(jobs.length, 1, `one job, never two: ${JSON.stringify(jobs)}`);
      await untilJobState(jobs[0]!.jid, "RUNNING");
      assert.equal(run.result, "Succeeded", explain(run));
      assert.equal(run.outputs["jobId"], jobs[0]!.jid);
      await submitRerunEndsRight(jobName, jobs[0]!.jid);
      await cancelled(jobName);
    };
    const cancelled = async (jobName: string) => {
      const cancel = await step("FlinkJobCancel", jobName);
      assert.equal(cancel.result, "Succeeded", explain(cancel));
    };

    describe(`the JobManager killed and started again (Flink ${version}, ZooKeeper HA)`, () => {
      it("during Submit's wait: the job runs once with its JobID and the step succeeds; its re-run is refused naming it", () => submitThrough("jm-submit", failover));

      it("during Stop's savepoint: fails saying the job is RUNNING with no savepoint; the re-run stops it with one on disk", async () => {
        const jobName = "jm-stop";
        const savepointDir = path.join(workspace, "jm-stop-savepoints");
        // A 10 s snapshot: the JobManager dies while the savepoint is IN_PROGRESS; no periodic checkpoint competes.
        const jobId = await submitted(jobName, { args: "--snapshot-sleep-ms 10000", savepointDirectory: `file://${savepointDir}`, flinkConfiguration: "execution.checkpointing.interval=1h" });
        const from = forwarder.requests.length;
        // The savepoint is lost with the JobManager: a wait that keeps observing until its deadline
        // then judges from the job; 2 minutes covers the restart (under 90 s) and bounds CI time.
        const stop = step("FlinkJobStop", jobName, { waitTimeoutInMinutes: "2" });
        await forwarder.waitForRequest(new RegExp(`^POST /jobs/${jobId}/stop$`), { from });
        for (let i = 0; (await flinkGet<Checkpoints>(flink.cluster.restUrl, `/jobs/${jobId}/checkpoints`)).counts.in_progress === 0; i++) {
          assert.ok(i < 100, "Flink never listed the savepoint in progress");
          await delay(200);
        }
        await failover();
        const run = await stop;
        await untilJobState(jobId, "RUNNING");
        assert.deepEqual((await liveJobsOf(jobName)).map((j) => j.jid), [jobId], "the same job recovered, never two");
        assert.deepEqual(savepointsOnDisk(savepointDir), [], "the savepoint died with the JobManager");
        assert.equal(run.result, "Failed", explain(run));
        assert.match(run.resultMessage ?? "", new RegExp(`RUNNING.*${jobId}|${jobId}.*RUNNING`, "s"));
        assert.ok(!run.outputs["savepointPath"], "no savepoint is named");

        const again = await step("FlinkJobStop", jobName);
        assert.equal(again.result, "Succeeded", explain(again));
        assert.equal(again.outputs["jobStatus"], "FINISHED");
        const savepoint = again.outputs["savepointPath"]!;
        assert.deepEqual(savepointsOnDisk(savepointDir), [localPath(savepoint)]);
        assert.equal((await flinkGet<Checkpoints>(flink.cluster.restUrl, `/jobs/${jobId}/checkpoints`)).latest.savepoint?.external_path, savepoint);
      });

      it("during Deploy's health gate: the job keeps its JobID; the step succeeds or says where the job stands; the re-run ends healthy", async () => {
        const jobName = "jm-deploy";
        const from = forwarder.requests.length;
        const deploy = step("FlinkJobDeploy", jobName, { jarFile: "job.jar", healthCheckSeconds: "20" });
        await reached(/^POST \/jars\/[^/]+\/run$/, 4, from);
        const [running] = await liveJobsOf(jobName);
        assert.ok(running, "the deploy started its job");
        await failover();
        const run = await deploy;
        await untilJobState(running.jid, "RUNNING");
        assert.deepEqual((await liveJobsOf(jobName)).map((j) => j.jid), [running.jid], "the same job recovered, never two");
        if (run.result === "Succeeded") {
          assert.equal(run.outputs["deployAction"], "submitted");
        } else {
          // Not "could not reach Flink": where the job stands, read after the JobManager came back.
          assert.doesNotMatch(run.resultMessage ?? "", /Could not reach Flink/, explain(run));
          assert.match(run.resultMessage ?? "", new RegExp(`${running.jid}.*(RUNNING|RESTARTING|SUSPENDED)|(RUNNING|RESTARTING|SUSPENDED).*${running.jid}`, "s"), explain(run));
        }

        const again = await step("FlinkJobDeploy", jobName, { jarFile: "job.jar", healthCheckSeconds: "3" });
        assert.equal(again.result, "Succeeded", explain(again));
        assert.ok(["unchanged", "repaired"].includes(again.outputs["deployAction"] ?? ""), again.outputs["deployAction"]);
        const live = await liveJobsOf(jobName);
        assert.equal(live.length, 1, `one live job: ${JSON.stringify(live)}`);
        await cancelled(jobName);
      });
    });

    describe(`the REST API unreachable for ${OUTAGE_MS / 1000} s (Flink ${version})`, () => {
      it("in the middle of Submit's wait: the step succeeds with the one job it started; its re-run is refused naming it", () => submitThrough("outage-submit", outage));

      it("in the middle of Stop's savepoint: the savepoint completed during the outage is the step's savepointPath", async () => {
        const jobName = "outage-stop";
        const savepointDir = path.join(workspace, "outage-stop-savepoints");
        const jobId = await submitted(jobName, { args: "--snapshot-sleep-ms 4000", savepointDirectory: `file://${savepointDir}`, flinkConfiguration: "execution.checkpointing.interval=1h" });
        const from = forwarder.requests.length;
        const stop = step("FlinkJobStop", jobName);
        await forwarder.waitForRequest(new RegExp(`^POST /jobs/${jobId}/stop$`), { from });
        await outage();
        const run = await stop;
        await untilJobState(jobId, "FINISHED");
        const onDisk = savepointsOnDisk(savepointDir);
        assert.equal(onDisk.length, 1, `one savepoint on disk: ${onDisk.join(", ")}`);
        assert.equal(localPath((await flinkGet<Checkpoints>(flink.cluster.restUrl, `/jobs/${jobId}/checkpoints`)).latest.savepoint!.external_path), onDisk[0]);
        if (run.result !== "Succeeded") {
          // The re-run must still hand over the savepoint the stop wrote: never a lost savepoint.
          const again = await step("FlinkJobStop", jobName);
          assert.equal(localPath(again.outputs["savepointPath"] ?? "file:///none"), onDisk[0], `the re-run names the stop's savepoint (the stop: ${run.resultMessage}): ${explain(again)}`);
        }
        assert.equal(run.result, "Succeeded", explain(run));
        assert.equal(run.outputs["jobStatus"], "FINISHED");
        assert.equal(localPath(run.outputs["savepointPath"]!), onDisk[0]);
      });

      it("in the middle of Deploy's health gate: the deploy succeeds with its one job", async () => {
        const jobName = "outage-deploy";
        const from = forwarder.requests.length;
        const deploy = step("FlinkJobDeploy", jobName, { jarFile: "job.jar", healthCheckSeconds: "20" });
        await reached(/^POST \/jars\/[^/]+\/run$/, 4, from);
        await outage();
        const run = await deploy;
        const live = await liveJobsOf(jobName);
        assert.equal(live.length, 1, `one live job: ${JSON.stringify(live)}`);
        if (run.result !== "Succeeded") {
          const again = await step("FlinkJobDeploy", jobName, { jarFile: "job.jar", healthCheckSeconds: "3" });
          assert.equal(again.result, "Succeeded", `the re-run (the deploy: ${run.resultMessage}): ${explain(again)}`);
          assert.deepEqual((await liveJobsOf(jobName)).map((j) => j.jid), [live[0]!.jid], "the re-run kept the one job");
        }
        assert.equal(run.result, "Succeeded", explain(run));
        assert.equal(run.outputs["deployAction"], "submitted");
        assert.equal(run.outputs["jobId"], live[0]!.jid);
        await cancelled(jobName);
      });

      it("in the middle of Status's waitForStatus: the job cancelled meanwhile is reported CANCELED", async () => {
        const jobName = "outage-status";
        const jobId = await submitted(jobName);
        const from = forwarder.requests.length;
        const status = step("FlinkJobStatus", jobName, { waitForStatus: "CANCELED" });
        await forwarder.waitForRequest(/^GET \/jobs/, { from });
        await outage(async () => {
          const cancel = await fetch(`${flink.cluster.restUrl}/jobs/${jobId}?mode=cancel`, { method: "PATCH" });
          assert.equal(cancel.status, 202);
        });
        const run = await status;
        if (run.result !== "Succeeded") {
          const again = await step("FlinkJobStatus", jobName, { waitForStatus: "CANCELED" });
          assert.equal(again.result, "Succeeded", `the re-run (the first: ${run.resultMessage}): ${explain(again)}`);
        }
        assert.equal(run.result, "Succeeded", explain(run));
        assert.equal(run.outputs["jobStatus"], "CANCELED");
        assert.equal(run.outputs["jobId"], jobId);
      });
    });
  });
}
