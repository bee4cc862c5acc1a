/**
 * The whole lifecycle of one job on a real Flink session cluster (the test bed), in-process
 * through the backend: every step checked on Flink itself, not only in the outcome.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { jobTag } from "../../src/backends/flink-rest/identity";
import type { FlinkCluster } from "../../testbed/flink/cluster";
import type { TestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { flinkGet, flinkJobState, readStatus, runAction, workspaceWith } from "./helpers";

interface Checkpoints {
  latest: { restored: { external_path?: string; id: number; is_savepoint: boolean } | null };
}
interface Overview {
  jobs: Array<{ jid: string; name: string; state: string }>;
}
interface Jars {
  files: Array<{ id: string; name: string }>;
}

const versions = flinkVersionsUnderTest();

function metadataExists(savepointPath: string): boolean {
  const dir = savepointPath.startsWith("file:") ? fileURLToPath(savepointPath) : savepointPath;
  return fs.existsSync(path.join(dir, "_metadata"));
}

for (const version of versions) {
  describe(`Flink REST lifecycle on Flink ${version}`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let jars: TestJobJars;
    let workspace: string;
    let savepointDir: string;
    const jobName = `orders-${version.replace(/\./g, "-")}`;
    const ids: string[] = [];
    const savepoints: string[] = [];
    let url: string;
    const run = (action: Parameters<typeof runAction>[0], inputs: Record<string, string> = {}) => runAction(action, jobName, inputs, { url, workingDirectory: workspace });
    const restored = async (jobId: string) => (await flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`)).latest.restored;
    const ourJars = async () => (await flinkGet<Jars>(url, "/jars")).files.filter((f) => f.name.includes(jobTag(jobName)));

    const flink = useSharedFlinkCluster(version, { checkpointIntervalMs: 1000 });

    before(async function () {
      jars = flink.jars;
      cluster = flink.cluster;
      url = cluster.restUrl;
      workspace = workspaceWith({ "build/orders-v1.jar": jars.v1, "next/orders-v2.jar": jars.v2 });
      savepointDir = fs.mkdtempSync(path.join(os.tmpdir(), "flink-rest-savepoints-"));
    });

    after(async () => {
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
      if (savepointDir) fs.rmSync(savepointDir, { recursive: true, force: true });
    });

    it("submits the jar a pattern names: RUNNING, tagged JobID, named by jobName, its jar kept", async () => {
      const { outcome } = await run("NEW", { jarFile: "build/*.jar", args: "--records-per-second 50", savepointDirectory: `file://${savepointDir}` });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      const jobId = outcome.job!.jobId!;
      assert.match(jobId, new RegExp(`^${jobTag(jobName)}[0-9a-f]{24}$`));
      assert.equal(outcome.job!.jobStatus, "RUNNING");
      const details = await flinkGet<{ state: string; name: string }>(url, `/jobs/${jobId}`);
      assert.equal(details.state, "RUNNING");
      assert.equal(details.name, jobName, "pipeline.name carries jobName");
      assert.deepEqual((await ourJars()).map((j) => j.id), [outcome.job!.jarId]);
      ids.push(jobId);
    });

    it("refuses a second submit while the job runs, and starts nothing", async () => {
      await assert.rejects(run("NEW", { jarFile: "build/orders-v1.jar" }), /already RUNNING/);
      const live = (await flinkGet<Overview>(url, "/jobs/overview")).jobs.filter((j) => j.jid.startsWith(jobTag(jobName)) && j.state === "RUNNING");
      assert.equal(live.length, 1);
    });

    it("triggers a savepoint into the job's savepointDirectory, its _metadata on disk", async () => {
      const { outcome } = await run("SAVEPOINT");
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      assert.ok(outcome.savepointPath!.includes(savepointDir), outcome.savepointPath);
      assert.ok(metadataExists(outcome.savepointPath!), `no _metadata in ${outcome.savepointPath}`);
      savepoints.push(outcome.savepointPath!);
    });

    it("updates with a second jar through stop-with-savepoint: the new job restores that savepoint, the old jar is removed", async () => {
      const { outcome } = await run("UPDATE", { jarFile: "next/orders-v2.jar" });
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      const jobId = outcome.job!.jobId!;
      assert.notEqual(jobId, ids.at(-1));
      assert.equal(await flinkJobState(url, ids.at(-1)!), "FINISHED");
      // The stop's savepoint is the job's newest (lastSavepoint); savepointPath is Stop's and Savepoint's output.
      const stopped = outcome.job!.lastSavepoint!;
      assert.equal(outcome.savepointPath, undefined);
      assert.ok(metadataExists(stopped));
      const r = await restored(jobId);
      assert.equal(r?.external_path, stopped);
      assert.deepEqual((await ourJars()).map((j) => j.id), [outcome.job!.jarId]);
      assert.match(outcome.job!.jarId!, /orders-v2\.jar$/);
      ids.push(jobId);
      savepoints.push(stopped);
    });

    it("stops with a savepoint: FINISHED, savepointPath on disk", async () => {
      const { outcome } = await run("STOP");
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      assert.equal(outcome.job!.jobStatus, "FINISHED");
      assert.ok(metadataExists(outcome.savepointPath!));
      assert.equal(await flinkJobState(url, ids.at(-1)!), "FINISHED");
      savepoints.push(outcome.savepointPath!);
    });

    it("starts again from the stop's savepoint with the jar kept on the cluster", async () => {
      const { outcome } = await run("START");
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      const r = await restored(outcome.job!.jobId!);
      assert.equal(r?.external_path, savepoints.at(-1));
      ids.push(outcome.job!.jobId!);
    });

    it("lastState update: cancel, then restart from the newest retained checkpoint", async () => {
      // A checkpoint must exist first (the cluster checkpoints every second).
      for (let i = 0; i < 60; i++) {
        const c = await flinkGet<{ counts: { completed: number } }>(url, `/jobs/${ids.at(-1)}/checkpoints`);
        if (c.counts.completed > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const { outcome } = await run("LAST_STATE_UPDATE");
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      assert.equal(await flinkJobState(url, ids.at(-1)!), "CANCELED");
      const r = await restored(outcome.job!.jobId!);
      assert.ok(r?.external_path?.startsWith(cluster.checkpointDirUri.replace(/\/$/, "")) || r?.external_path?.includes("chk-"), JSON.stringify(r));
      ids.push(outcome.job!.jobId!);
    });

    it("stateless update: cancel, then a fresh run that restores nothing", async () => {
      const { outcome } = await run("STATELESS_UPDATE");
      assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
      assert.equal(await flinkJobState(url, ids.at(-1)!), "CANCELED");
      assert.equal(await restored(outcome.job!.jobId!), null);
      ids.push(outcome.job!.jobId!);
    });

    it("reads the job's status by name (its newest execution) and every job", async () => {
      const one = await readStatus(jobName, { url });
      assert.equal(one.job?.jobId, ids.at(-1));
      assert.equal(one.job?.jobStatus, "RUNNING");
      const every = await readStatus(undefined, { url });
      assert.ok(every.jobs.length >= ids.length);
      const waited = await readStatus(jobName, { url, waitForStatus: "RUNNING" });
      assert.equal(waited.job?.jobStatus, "RUNNING");
    });

    it("lists the savepoints Flink still knows for the job's executions", async () => {
      const { outcome } = await run("LIST_SAVEPOINT");
      assert.equal(outcome.actionResult, "SUCCESS");
      const listed = outcome.savepoints!.map((e) => e.path);
      for (const sp of savepoints) assert.ok(listed.includes(sp), `${sp} not in ${listed.join(", ")}`);
      assert.match(outcome.job!.jobOutput!, /jobstore\.expiration-time/);
    });

    it("cancels (CANCELED on Flink); cancelling the ended job again is not an error", async () => {
      const { outcome } = await run("CANCEL");
      assert.equal(outcome.actionResult, "SUCCESS");
      assert.equal(outcome.job!.jobStatus, "CANCELED");
      assert.equal(await flinkJobState(url, ids.at(-1)!), "CANCELED");
      const again = await run("CANCEL");
      assert.equal(again.outcome.actionResult, "SUCCESS");
      assert.equal(again.outcome.job!.jobStatus, "CANCELED");
    });

    it("deletes: the job's jars are gone from /jars", async () => {
      assert.equal((await ourJars()).length, 1);
      const { outcome } = await run("DELETE");
      assert.equal(outcome.actionResult, "SUCCESS");
      assert.deepEqual(await ourJars(), []);
    });
  });
}
