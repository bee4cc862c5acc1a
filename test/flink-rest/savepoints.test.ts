/**
 * Savepoints as a managed asset on a real Flink session cluster (the test bed): a savepoint given
 * by its name, the savepoint format and the claim mode as Flink records and applies them, the
 * history with each savepoint's origin, disposal and retention. Every step is checked on Flink
 * (its checkpoint statistics) and on disk (the savepoint folders), not only in our outcome.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { flinkRestBackend } from "../../src/backends/flink-rest";
import { jobTag } from "../../src/backends/flink-rest/identity";
import { localPath } from "../../src/backends/flink-rest/savepoints";
import type { SavepointEntry } from "../../src/jobs/backend";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { runTask, type TaskRun } from "../harness/agent";
import { flinkGet, runAction, workspaceWith } from "./helpers";

interface Snapshot {
  id: number;
  external_path?: string;
  checkpoint_type?: string;
  savepointFormat?: string;
  status?: string;
  is_savepoint?: boolean;
}
interface Checkpoints {
  counts: { completed: number };
  latest: { savepoint: Snapshot | null; restored: Snapshot | null };
  history: Snapshot[];
}
interface Overview {
  jobs: Array<{ jid: string; name: string; state: string }>;
}

const versions = flinkVersionsUnderTest();
const nameOf = (p: string) => p.replace(/\/+$/, "").split("/").pop()!;
const onDisk = (p: string) => fs.existsSync(path.join(localPath(p)!, "_metadata"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const version of versions) {
  describe(`Savepoints on Flink ${version}`, function () {
    this.timeout(300_000);
    let cluster: FlinkCluster;
    let workspace: string;
    let jobDir: string;
    let url: string;
    const jobName = `sp-${version.replace(/\./g, "-")}`;
    const prefix = `savepoint-${jobTag(jobName).slice(0, 6)}-`;
    const made: Record<string, string> = {};
    const executions: string[] = [];
    const run = (action: Parameters<typeof runAction>[0], inputs: Record<string, string> = {}) => runAction(action, jobName, inputs, { url, workingDirectory: workspace });
    const checkpoints = (jobId: string) => flinkGet<Checkpoints>(url, `/jobs/${jobId}/checkpoints`);
    const live = async () => (await flinkGet<Overview>(url, "/jobs/overview")).jobs.filter((j) => j.jid.startsWith(jobTag(jobName)) && !["FINISHED", "CANCELED", "FAILED"].includes(j.state));
    /** Every savepoint folder of this job on disk, in both directories. */
    const folders = () => [jobDir, cluster.savepointDir].flatMap((d) => fs.readdirSync(d).filter((n) => n.startsWith(prefix) && fs.existsSync(path.join(d, n, "_metadata"))));
    async function completedCheckpointsAfter(jobId: string, extra: number): Promise<void> {
      const start = (await checkpoints(jobId)).counts.completed;
      for (let i = 0; i < 240; i++) {
        if ((await checkpoints(jobId)).counts.completed >= start + extra) return;
        await sleep(500);
      }
      assert.fail(`job ${jobId} completed fewer than ${extra} checkpoints`);
    }
    /** Flink's record of a snapshot, by path (its REST cache may lag for web.refresh-interval). */
    async function snapshotOf(jobId: string, snapshotPath: string): Promise<Snapshot> {
      for (let i = 0; i < 60; i++) {
        const found = (await checkpoints(jobId)).history.find((h) => h.external_path?.replace(/\/_metadata$/, "") === snapshotPath);
        if (found) return found;
        await sleep(500);
      }
      return assert.fail(`Flink lists no snapshot ${snapshotPath} for job ${jobId}`);
    }
    async function task(name: "FlinkSavepoint" | "FlinkJobDeploy", inputs: Record<string, string>): Promise<TaskRun> {
      return runTask({
        task: name,
        inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "3", ...inputs },
        connection: { id: "flink-conn", url, scheme: "None", parameters: {}, data: {} },
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 240_000,
      });
    }

    before(async function () {
      this.timeout(600_000);
      assert.ok(fs.existsSync("dist/tasks/FlinkSavepoint/index.js"), "run npm run build first");
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version, checkpointIntervalMs: 1000 });
      url = cluster.restUrl;
      workspace = workspaceWith({ "v1/orders-1.0.jar": jars.v1, "v2/orders-2.0.jar": jars.v2 });
      jobDir = fs.mkdtempSync(path.join(os.tmpdir(), "flink-savepoints-"));
    });

    after(async () => {
      await cluster?.stop();
      for (const dir of [workspace, jobDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("savepointName is checked as a savepoint (a name or a path), and its message is about savepointName", () => {
      const validate = (value: string) =>
        flinkRestBackend.validate({ target: "flinkRest", jobName, action: "START", actionInput: "startMode", waitForCompletion: true, timeoutMs: 60_000, maxPollIntervalMs: 1000 }, (n) =>
          n === "flinkConnection" ? "flink" : n === "savepointName" ? value : undefined,
        );
      assert.equal(validate("savepoint-493dc1-c5b00e42edc2").savepointName, "savepoint-493dc1-c5b00e42edc2");
      assert.throws(
        () => validate("yesterday's savepoint"),
        (e: Error) => /savepointName/.test(e.message) && /savepoint's name/.test(e.message) && !/URI the cluster can write/.test(e.message),
      );
    });

    it("writes a canonical and a NATIVE savepoint: Flink records each format, both on disk", async () => {
      const submitted = await run("NEW", { jarFile: "v1/*.jar", args: "--records-per-second 50", savepointDirectory: `file://${jobDir}` });
      assert.equal(submitted.outcome.actionResult, "SUCCESS", submitted.outcome.failure);
      executions.push(submitted.outcome.job!.jobId!);
      const canonical = await run("SAVEPOINT");
      assert.equal(canonical.outcome.actionResult, "SUCCESS", canonical.outcome.failure);
      const native = await run("SAVEPOINT", { savepointFormat: "native" });
      assert.equal(native.outcome.actionResult, "SUCCESS", native.outcome.failure);
      made["trigger"] = canonical.outcome.savepointPath!;
      made["native"] = native.outcome.savepointPath!;
      assert.equal((await snapshotOf(executions[0]!, made["trigger"])).savepointFormat, "CANONICAL");
      assert.equal((await snapshotOf(executions[0]!, made["native"])).savepointFormat, "NATIVE");
      assert.ok(onDisk(made["trigger"]) && onDisk(made["native"]));
    });

    it("stops with a NATIVE savepoint; a start given its NAME restores it (latest.restored)", async () => {
      const stopped = await run("STOP", { savepointFormat: "native" });
      assert.equal(stopped.outcome.actionResult, "SUCCESS", stopped.outcome.failure);
      made["stop"] = stopped.outcome.savepointPath!;
      const recorded = await snapshotOf(executions[0]!, made["stop"]);
      assert.equal(recorded.checkpoint_type, "SYNC_SAVEPOINT");
      assert.equal(recorded.savepointFormat, "NATIVE");
      const started = await run("START", { savepointName: nameOf(made["stop"]) });
      assert.equal(started.outcome.actionResult, "SUCCESS", started.outcome.failure);
      executions.push(started.outcome.job!.jobId!);
      assert.equal((await checkpoints(executions.at(-1)!)).latest.restored?.external_path, made["stop"]);
      assert.ok(started.host.lines.some((l) => l.startsWith(`savepointName ${nameOf(made["stop"]!)}: ${made["stop"]}`)), started.host.lines.join("\n"));
    });

    it("a name is looked up in the cluster's default savepoint directory too; a name found nowhere says where it looked and starts nothing", async () => {
      const stopped = await run("STOP");
      assert.equal(stopped.outcome.actionResult, "SUCCESS", stopped.outcome.failure);
      // A canonical savepoint is self-contained: a copy under another name restores as well.
      made["copy"] = `${prefix}0123456789ab`;
      fs.cpSync(localPath(stopped.outcome.savepointPath!)!, path.join(cluster.savepointDir, made["copy"]), { recursive: true });
      const missing = `${prefix}ffffffffffff`;
      await assert.rejects(run("START", { savepointName: missing }), (e: Error) => {
        assert.match(e.message, new RegExp(`savepointName: no savepoint named ${missing}`));
        assert.ok(e.message.includes(`file://${jobDir}`) && e.message.includes(cluster.savepointDirUri.replace(/\/+$/, "")), e.message);
        return true;
      });
      assert.deepEqual(await live(), []);
      const started = await run("START", { savepointName: made["copy"] });
      assert.equal(started.outcome.actionResult, "SUCCESS", started.outcome.failure);
      executions.push(started.outcome.job!.jobId!);
      const restored = (await checkpoints(executions.at(-1)!)).latest.restored?.external_path ?? "";
      assert.ok(restored.endsWith(`/${made["copy"]}`) && localPath(restored)!.startsWith(cluster.savepointDir), restored);
    });

    it("NO_CLAIM (default) leaves the restored savepoint on disk after the next checkpoints; under CLAIM Flink deletes it once they replace it", async () => {
      await completedCheckpointsAfter(executions.at(-1)!, 3);
      assert.ok(onDisk(path.join(cluster.savepointDir, made["copy"]!)), "NO_CLAIM: the restored savepoint is still on disk");
      const stopped = await run("STOP");
      assert.equal(stopped.outcome.actionResult, "SUCCESS", stopped.outcome.failure);
      const claimed = stopped.outcome.savepointPath!;
      const started = await run("START", { savepointName: claimed, restoreMode: "claim" });
      assert.equal(started.outcome.actionResult, "SUCCESS", started.outcome.failure);
      executions.push(started.outcome.job!.jobId!);
      assert.equal((await checkpoints(executions.at(-1)!)).latest.restored?.external_path, claimed);
      await completedCheckpointsAfter(executions.at(-1)!, 3);
      assert.ok(!onDisk(claimed), `CLAIM: Flink should have deleted ${claimed}`);
    });

    it("lists the history: each savepoint's origin (trigger, stop, update, deploy), its execution, and the one the live execution restored from", async () => {
      const updated = await run("UPDATE", { jarFile: "v2/*.jar" });
      assert.equal(updated.outcome.actionResult, "SUCCESS", updated.outcome.failure);
      made["update"] = updated.outcome.job!.lastSavepoint!;
      executions.push(updated.outcome.job!.jobId!);
      const deployed = await task("FlinkJobDeploy", { jarFile: "v1/*.jar", args: "--records-per-second 40", upgradeMode: "savepoint", healthCheckSeconds: "1" });
      assert.equal(deployed.result, "Succeeded", `${deployed.resultMessage}\n${deployed.visibleLog}`);
      made["deploy"] = deployed.outputs["previousSavepoint"]!;
      executions.push(deployed.outputs["jobId"]!);
      assert.equal((await checkpoints(executions.at(-1)!)).latest.restored?.external_path, made["deploy"]);

      const listed = await task("FlinkSavepoint", { operation: "list" });
      assert.equal(listed.result, "Succeeded", `${listed.resultMessage}\n${listed.visibleLog}`);
      const entries = JSON.parse(listed.outputs["savepoints"]!) as SavepointEntry[];
      assert.equal(listed.outputs["savepointCount"], String(entries.length));
      const find = (p: string) => entries.find((e) => e.path === p);
      assert.deepEqual(
        ["trigger", "native", "stop", "update", "deploy"].map((k) => [k, find(made[k]!)?.origin]),
        [
          ["trigger", "trigger"],
          ["native", "trigger"],
          ["stop", "stop"],
          ["update", "update"],
          ["deploy", "deploy"],
        ],
      );
      assert.equal(find(made["trigger"]!)?.jobId, executions[0]);
      assert.deepEqual(
        entries.filter((e) => e.restoredByLive).map((e) => e.path),
        [made["deploy"]],
      );
      assert.ok(entries.some((e) => e.path.endsWith(made["copy"]!) && e.origin === null), "a savepoint only on disk is listed, its origin unknown");
      const times = entries.map((e) => Date.parse(e.time!));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
      const summary = listed.summaries.join("\n");
      assert.match(summary, /\| Path \| Time \| Origin \| Execution \| Restored by the live job \|/);
      assert.ok(summary.includes(nameOf(made["deploy"]!)));
      assert.match(listed.outputs["jobOutput"]!, /jobstore\.expiration-time/);
    });

    it("dispose refuses the savepoint the live execution restored from and the newest one, naming them, and removes another from disk", async () => {
      await assert.rejects(run("DISPOSE_SAVEPOINT", { savepointName: nameOf(made["deploy"]!) }), /restored from/);
      const newest = await run("SAVEPOINT");
      assert.equal(newest.outcome.actionResult, "SUCCESS", newest.outcome.failure);
      await assert.rejects(run("DISPOSE_SAVEPOINT", { savepointName: nameOf(newest.outcome.savepointPath!) }), (e: Error) => {
        assert.match(e.message, /newest completed savepoint/);
        assert.ok(e.message.includes(nameOf(made["deploy"]!)), "names the other protected one too");
        return true;
      });
      assert.ok(onDisk(made["deploy"]!) && onDisk(newest.outcome.savepointPath!));
      const disposed = await run("DISPOSE_SAVEPOINT", { savepointName: nameOf(made["trigger"]!) });
      assert.equal(disposed.outcome.actionResult, "SUCCESS", disposed.outcome.failure);
      assert.ok(!onDisk(made["trigger"]!), "the folder is gone from disk");
      assert.ok(!fs.existsSync(localPath(made["trigger"]!)!));
      const again = await run("DISPOSE_SAVEPOINT", { savepointName: made["trigger"]! });
      assert.equal(again.outcome.actionResult, "SUCCESS", "a re-run finds it gone");
    });

    it("prunes 20 savepoints in one step to keepLast plus the protected; a failed disposal says why and the others go on; the re-run removes nothing", async () => {
      const jobId = executions.at(-1)!;
      const twenty: string[] = [];
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${url}/jobs/${jobId}/savepoints`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ "target-directory": `file://${jobDir}`, "cancel-job": false }) });
        const { "request-id": trigger } = (await response.json()) as { "request-id": string };
        for (;;) {
          const status = await flinkGet<{ status: { id: string }; operation?: { location?: string } }>(url, `/jobs/${jobId}/savepoints/${trigger}`);
          if (status.status.id === "COMPLETED") {
            assert.ok(status.operation?.location, JSON.stringify(status));
            twenty.push(status.operation.location);
            break;
          }
          await sleep(200);
        }
      }
      // One older savepoint Flink cannot read: its disposal fails.
      const broken = twenty[2]!;
      fs.writeFileSync(path.join(localPath(broken)!, "_metadata"), "not a savepoint");
      const pruned = await run("PRUNE_SAVEPOINTS", { keepLast: "3" });
      assert.equal(pruned.outcome.actionResult, "FAILED", `${pruned.outcome.job?.jobOutput}\n${pruned.host.lines.filter((l) => !l.startsWith("DEBUG")).join("\n")}`);
      assert.ok(pruned.outcome.failure!.includes(nameOf(broken)), pruned.outcome.failure);
      const expected = [...twenty.slice(-3), made["deploy"]!].map(nameOf);
      assert.deepEqual(folders().sort(), [...expected, nameOf(broken)].sort(), "kept: the newest 3, the one the live job restored from, and the one that could not be removed");
      assert.match(pruned.outcome.job!.jobOutput!, /Removed \d+: /);
      // The broken one removed by hand: the re-run ends right and removes nothing more.
      fs.rmSync(localPath(broken)!, { recursive: true, force: true });
      const again = await run("PRUNE_SAVEPOINTS", { keepLast: "3" });
      assert.equal(again.outcome.actionResult, "SUCCESS", again.outcome.failure);
      assert.match(again.outcome.job!.jobOutput!, /Removed 0: none/);
      assert.deepEqual(folders().sort(), expected.sort());
      assert.deepEqual(
        again.outcome.savepoints!.map((e) => nameOf(e.path)).sort(),
        expected.sort(),
      );
    });

    it("prune with maxAgeDays also removes savepoints older than that among the newest keepLast, never a protected one", async () => {
      const before = folders();
      // Copies of a canonical savepoint (self-contained), dated 40 days back: only on disk, so dated by their folders.
      const old = ["00000000aa01", "00000000aa02"].map((id) => path.join(jobDir, `${prefix}${id}`));
      const longAgo = new Date(Date.now() - 40 * 86_400_000);
      for (const folder of old) {
        fs.cpSync(localPath(made["deploy"]!)!, folder, { recursive: true });
        fs.utimesSync(folder, longAgo, longAgo);
      }
      const pruned = await run("PRUNE_SAVEPOINTS", { keepLast: "10", maxAgeDays: "30" });
      assert.equal(pruned.outcome.actionResult, "SUCCESS", pruned.outcome.failure);
      assert.match(pruned.outcome.job!.jobOutput!, /Removed 2: /);
      assert.deepEqual(folders().sort(), before.sort(), "the two old copies are gone, everything newer stays");
    });

    it("FlinkJobDeploy retainSavepoints prunes after a successful deploy, keeping the savepoint the new version restored from", async () => {
      const deployed = await task("FlinkJobDeploy", { jarFile: "v2/*.jar", args: "--records-per-second 30", upgradeMode: "savepoint", healthCheckSeconds: "1", retainSavepoints: "1" });
      assert.equal(deployed.result, "Succeeded", `${deployed.resultMessage}\n${deployed.visibleLog}`);
      const restored = (await checkpoints(deployed.outputs["jobId"]!)).latest.restored?.external_path;
      assert.equal(restored, deployed.outputs["previousSavepoint"]);
      assert.deepEqual(folders(), [nameOf(restored!)]);
    });
  });
}
