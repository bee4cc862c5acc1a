/**
 * What goes wrong against a real Flink, and what the task then says: each failure names what the
 * cluster said, and nothing is ever run twice.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { jobTag } from "../../src/backends/flink-rest/identity";
import { JobStateError } from "../../src/errors";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars, type TestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest, useFlinkCluster, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { flinkGet, readStatus, runAction, runOutsideTheTasks, startServer, workspaceWith } from "./helpers";

interface Overview {
  jobs: Array<{ jid: string; name: string; state: string }>;
}
interface Jars {
  files: Array<{ id: string; name: string }>;
}

const versions = flinkVersionsUnderTest();

async function tagged(url: string, jobName: string) {
  return (await flinkGet<Overview>(url, "/jobs/overview")).jobs.filter((j) => j.jid.startsWith(jobTag(jobName)));
}

async function taggedJars(url: string, jobName: string) {
  return (await flinkGet<Jars>(url, "/jars")).files.filter((f) => f.name.includes(jobTag(jobName)));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

async function cancelDirect(url: string, jobId: string): Promise<void> {
  await fetch(`${url}/jobs/${jobId}?mode=cancel`, { method: "PATCH" });
  for (let i = 0; i < 60; i++) {
    if ((await flinkGet<{ state: string }>(url, `/jobs/${jobId}`)).state === "CANCELED") return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

for (const version of versions) {
  describe(`Flink REST failures on Flink ${version}`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let jars: TestJobJars;
    let workspace: string;
    let url: string;
    const run = (action: Parameters<typeof runAction>[0], jobName: string, inputs: Record<string, string> = {}, extra: { url?: string } = {}) =>
      runAction(action, jobName, inputs, { url: extra.url ?? url, workingDirectory: workspace });

    const flink = useSharedFlinkCluster(version);

    before(() => {
      jars = flink.jars;
      cluster = flink.cluster;
      url = cluster.restUrl;
      workspace = workspaceWith({ "job.jar": jars.v1, "nomain/job.jar": jars.v1NoMainClass });
    });

    after(() => {
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    it("a jar whose main() throws: FAILED with Flink's 400 and its cause; no job, no jar left", async () => {
      const { outcome } = await run("NEW", "throws", { jarFile: "job.jar", args: "--throw-in-main" });
      assert.equal(outcome.actionResult, "FAILED");
      assert.match(outcome.failure!, /Could not execute application/);
      assert.match(outcome.failure!, /--throw-in-main was given/);
      assert.deepEqual(await tagged(url, "throws"), []);
      assert.deepEqual(await taggedJars(url, "throws"), []);
    });

    it("a wrong entry class: FAILED naming the class", async () => {
      const { outcome } = await run("NEW", "wrong-class", { jarFile: "nomain/job.jar", entryClass: "testbed.flink.NoSuchJob" });
      assert.equal(outcome.actionResult, "FAILED");
      assert.match(outcome.failure!, /testbed\.flink\.NoSuchJob/);
      assert.deepEqual(await tagged(url, "wrong-class"), []);
    });

    it("a savepoint that does not exist: accepted, then FAILED with the exception Flink recorded", async () => {
      const missing = `file://${workspace}/savepoints/savepoint-000000-000000000000`;
      const { outcome } = await run("NEW", "no-savepoint", { jarFile: "job.jar", savepointName: missing });
      assert.equal(outcome.actionResult, "FAILED");
      assert.equal(outcome.job?.jobStatus, "FAILED");
      assert.match(outcome.failure!, /the job FAILED: /);
      assert.ok(outcome.failure!.includes("savepoint-000000-000000000000"), outcome.failure);
      assert.equal((await tagged(url, "no-savepoint")).length, 1, "exactly one job was run");
    });

    it("a jar that names its own job is still found by jobName; stop into a directory Flink cannot write fails and the job keeps running", async () => {
      const { outcome } = await run("NEW", "self-named", { jarFile: "job.jar", args: '--job-name "Orders Pipeline"' });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      assert.equal((await flinkGet<{ name: string }>(url, `/jobs/${outcome.job!.jobId}`)).name, "Orders Pipeline");
      const status = await readStatus("self-named", { url });
      assert.equal(status.job?.jobId, outcome.job!.jobId);
      const stop = await run("STOP", "self-named", { savepointDirectory: "file:///proc/flink-cannot-write" });
      assert.equal(stop.outcome.actionResult, "FAILED");
      assert.match(stop.outcome.failure!, /stop-with-savepoint failed: .+\. The job is RUNNING/);
      assert.equal(stop.outcome.savepointPath, undefined);
      const cancel = await run("CANCEL", "self-named");
      assert.equal(cancel.outcome.job?.jobStatus, "CANCELED");
    });

    it("a job started outside the tasks is found by its Flink name; two live jobs of one name are refused, naming both JobIDs", async () => {
      const first = await runOutsideTheTasks(url, jars.v1, ["--job-name", "legacy-job"]);
      const status = await readStatus("legacy-job", { url });
      assert.equal(status.job?.jobId, first);
      const second = await runOutsideTheTasks(url, jars.v1, ["--job-name", "legacy-job"]);
      const refusal = await run("CANCEL", "legacy-job").then(
        () => assert.fail("cancel went ahead"),
        (error: Error) => error,
      );
      assert.ok(refusal instanceof JobStateError, String(refusal));
      assert.ok(refusal.message.includes(first) && refusal.message.includes(second), refusal.message);
      for (const id of [first, second]) assert.notEqual((await flinkGet<{ state: string }>(url, `/jobs/${id}`)).state, "CANCELED");
      await cancelDirect(url, first);
      const cancel = await run("CANCEL", "legacy-job");
      assert.equal(cancel.outcome.job?.jobId, second);
      assert.equal(cancel.outcome.job?.jobStatus, "CANCELED");
    });

    it("a lastState update of a job whose checkpoints die with a cancel is refused before anything is cancelled", async () => {
      const { outcome } = await run("NEW", "no-retention", {
        jarFile: "job.jar",
        flinkConfiguration: "execution.checkpointing.externalized-checkpoint-retention=DELETE_ON_CANCELLATION\nexecution.checkpointing.interval=1s",
      });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      await assert.rejects(run("LAST_STATE_UPDATE", "no-retention"), /deleted when it is cancelled.*RETAIN_ON_CANCELLATION/);
      assert.equal((await flinkGet<{ state: string }>(url, `/jobs/${outcome.job!.jobId}`)).state, "RUNNING");
      await run("CANCEL", "no-retention");
    });

    it("a job that FAILED is relaunched from its newest retained checkpoint (startMode relaunch)", async () => {
      const { outcome } = await run("NEW", "crashes", { jarFile: "job.jar", args: "--fail-after-seconds 8", flinkConfiguration: "execution.checkpointing.interval=1s" });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      const failed = await readStatus("crashes", { url, waitForStatus: "FAILED" });
      assert.equal(failed.job?.jobStatus, "FAILED");
      const relaunch = await run("RE_LAUNCH", "crashes", { args: "--records-per-second 20", flinkConfiguration: "execution.checkpointing.interval=1s" });
      assert.equal(relaunch.outcome.actionResult, "SUCCESS", relaunch.outcome.failure);
      const restored = (await flinkGet<{ latest: { restored: { is_savepoint: boolean; external_path: string } | null } }>(url, `/jobs/${relaunch.outcome.job!.jobId}/checkpoints`)).latest.restored;
      // A retained checkpoint, not a savepoint (Flink marks any restore through savepointPath is_savepoint).
      assert.match(restored?.external_path ?? "", /\/chk-\d+$/, JSON.stringify(restored));
      await run("CANCEL", "crashes");
    });

    it("one job, never two: a /run whose answer is lost is sent again with the same JobID, and Flink runs it once", async () => {
      let dropped = 0;
      const proxy = await startServer((req, res) => {
        const upstream = http.request(`${url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
          if (req.method === "POST" && /\/jars\/[^/]+\/run$/.test(req.url ?? "") && dropped === 0) {
            dropped++;
            // Flink got the run and answered; the caller never sees it.
            answer.resume();
            answer.on("end", () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      });
      try {
        const { outcome, host } = await run("NEW", "retried", { jarFile: "job.jar" }, { url: proxy.url });
        assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
        assert.equal(dropped, 1);
        assert.equal(proxy.requests.filter((r) => /\/run$/.test(r)).length, 2, "the run was sent twice");
        assert.ok(host.lines.some((l) => /already has job/.test(l)), host.lines.join("\n"));
        const jobs = await tagged(url, "retried");
        assert.equal(jobs.length, 1, JSON.stringify(jobs));
        assert.equal(jobs[0]!.jid, outcome.job!.jobId);
        await run("CANCEL", "retried");
      } finally {
        await proxy.close();
      }
    });

    it("the TaskManager killed while the savepoint is IN_PROGRESS: FAILED with Flink's cause, no savepoint named, and the job ends FAILED", async () => {
      // The counting operator sleeps 20 s in snapshotState: the savepoint is truly under way when the TM dies.
      const { outcome } = await run("NEW", "tm-lost", { jarFile: "job.jar", args: "--snapshot-sleep-ms 20000", savepointDirectory: `file://${workspace}/tm-lost-savepoints` });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      const jobId = outcome.job!.jobId;
      let triggerId: string | undefined;
      const proxy = await startServer((req, res) => {
        const upstream = http.request(`${url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => chunks.push(chunk));
          answer.on("end", () => {
            const body = Buffer.concat(chunks);
            if (req.method === "POST" && /\/savepoints$/.test(req.url ?? "")) triggerId = (JSON.parse(body.toString("utf8")) as { "request-id"?: string })["request-id"];
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(body);
          });
        });
        req.pipe(upstream);
      });
      try {
        const savepoint = run("SAVEPOINT", "tm-lost", {}, { url: proxy.url });
        const inProgress = await waitUntil("the savepoint IN_PROGRESS on Flink", async () =>
          triggerId !== undefined && (await flinkGet<{ status: { id: string } }>(url, `/jobs/${jobId}/savepoints/${triggerId}`)).status.id === "IN_PROGRESS");
        assert.ok(inProgress);
        const history = await flinkGet<{ counts: { in_progress: number } }>(url, `/jobs/${jobId}/checkpoints`);
        assert.equal(history.counts.in_progress, 1, "Flink lists the savepoint as in progress when the TaskManager is killed");
        await cluster.killTaskManager();
        const { outcome: failed } = await savepoint;
        assert.equal(failed.actionResult, "FAILED");
        assert.match(failed.failure!, /^The savepoint failed: \S/);
        assert.equal(failed.savepointPath, undefined);
        assert.deepEqual(fs.existsSync(`${workspace}/tm-lost-savepoints`) ? fs.readdirSync(`${workspace}/tm-lost-savepoints`).filter((d) => fs.existsSync(`${workspace}/tm-lost-savepoints/${d}/_metadata`)) : [], [],
          "no completed savepoint on disk");
      } finally {
        await proxy.close();
        await cluster.startTaskManager();
      }
      const status = await readStatus("tm-lost", { url, waitForStatus: "FAILED" });
      assert.equal(status.job?.jobStatus, "FAILED");
      assert.equal(status.job?.jobId, jobId);
      // The re-run of the step: a new job of the name takes a savepoint that completes.
      const again = await run("NEW", "tm-lost", { jarFile: "job.jar", savepointDirectory: `file://${workspace}/tm-lost-savepoints` });
      assert.equal(again.outcome.actionResult, "SUCCESS", again.outcome.failure);
      const retried = await run("SAVEPOINT", "tm-lost");
      assert.equal(retried.outcome.actionResult, "SUCCESS", retried.outcome.failure);
      assert.ok(fs.existsSync(`${retried.outcome.savepointPath!.replace(/^file:\/+/, "/")}/_metadata`), retried.outcome.savepointPath);
      await run("CANCEL", "tm-lost");
    });
  });

  describe(`Flink REST on Flink ${version} with web submission disabled`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let workspace: string;
    before(async function () {
      this.timeout(600_000);
      const jars = await buildTestJobJars(version);
      workspace = workspaceWith({ "job.jar": jars.v1 });
      cluster = await startFlinkCluster({ version, extraConfig: { "web.submit.enable": false } });
    });
    after(async () => {
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    it("refuses to submit, saying web submission is off, before uploading anything", async () => {
      await assert.rejects(runAction("NEW", "no-web", { jarFile: "job.jar" }, { url: cluster.restUrl, workingDirectory: workspace }), /does not accept jars over REST/);
    });
  });
  describe(`Flink REST: a job that cannot get its slots, on Flink ${version} (a cluster of one slot)`, function () {
    this.timeout(300_000);
    // Its own cluster with a known number of slots: the shared one's slots depend on the suites before.
    const small = useFlinkCluster(version, { slots: 1 });
    let workspace: string;
    before(() => {
      workspace = workspaceWith({ "job.jar": small.jars.v1 });
    });
    after(() => {
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    it("the wait times out saying the job may still start, with the last state seen and its JobID", async () => {
      const url = small.cluster.restUrl;
      const error = await runAction("NEW", "no-slots", { jarFile: "job.jar", parallelism: "2" }, { url, workingDirectory: workspace, timeoutMs: 40_000 }).then(
        (o) => assert.fail(`the submit did not time out: ${JSON.stringify(o).slice(0, 2000)}`),
        (e: Error) => e,
      );
      assert.equal(error.name, "WaitTimeoutError");
      assert.match(error.message, /Timed out after 40 s while waiting for the job to run for NEW of job 'no-slots'\. The action may still complete on the cluster; last seen: job \w+/);
      const jobId = /JobID ([0-9a-f]{32})/.exec(error.message)?.[1];
      assert.ok(jobId && jobId.startsWith(jobTag("no-slots")), error.message);
      assert.equal((await tagged(url, "no-slots")).length, 1);
      const { outcome } = await runAction("CANCEL", "no-slots", {}, { url, workingDirectory: workspace });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
    });
  });
}
