/**
 * FlinkJobDeploy with target flinkRest: the bundled task through the agent harness against a real
 * Flink of the test bed (checkpointing on), checked on Flink itself: submit, unchanged re-run,
 * upgrade in each mode with state restored, a failing new version rolled back, rollback off, a
 * jar pattern matching none or two; and, in process, a cancel in the middle of an upgrade.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { executeTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { runTask, type TaskRun } from "../harness/agent";
import { fakeHost, flinkGet, workspaceWith } from "./helpers";

const versions = flinkVersionsUnderTest();

type Overview = { jobs: Array<{ jid: string; name: string; state: string }> };
type Checkpoints = { latest: { restored: { external_path: string } | null } };

for (const version of versions) {
  describe(`FlinkJobDeploy with target flinkRest on Flink ${version}`, function () {
    this.timeout(300_000);
    let cluster: FlinkCluster;
    let workspace: string;
    const jobName = `deploy-${version.replace(/\./g, "-")}`;

    before(async function () {
      this.timeout(600_000);
      assert.ok(fs.existsSync("dist/tasks/FlinkJobDeploy/index.js"), "run npm run build first");
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version, checkpointIntervalMs: 500 });
      workspace = workspaceWith({ "v1/orders-1.0.jar": jars.v1, "v2/orders-2.0.jar": jars.v2, "two/a.jar": jars.v1, "two/b.jar": jars.v2 });
    });

    after(async () => {
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    async function deployStep(inputs: Record<string, string>): Promise<TaskRun> {
      return runTask({
        task: "FlinkJobDeploy",
        inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "3", healthCheckSeconds: "3", ...inputs },
        connection: { id: "flink-conn", url: cluster.restUrl, scheme: "None", parameters: {}, data: {} },
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 240_000,
      });
    }
    const jobsOfName = async () => (await flinkGet<Overview>(cluster.restUrl, "/jobs/overview")).jobs.filter((j) => j.name === jobName);
    const live = async () => (await jobsOfName()).filter((j) => !["FINISHED", "CANCELED", "FAILED"].includes(j.state));
    const jarNames = async () => (await flinkGet<{ files: Array<{ id: string }> }>(cluster.restUrl, "/jars")).files.map((f) => f.id).sort();
    const restoredFrom = async (jobId: string) => (await flinkGet<Checkpoints>(cluster.restUrl, `/jobs/${jobId}/checkpoints`)).latest.restored?.external_path;

    it("submit, unchanged re-run, upgrade in each mode with state restored", async () => {
      const submit = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 50" });
      assert.equal(submit.result, "Succeeded", `${submit.resultMessage}\n${submit.visibleLog}`);
      assert.equal(submit.outputs["deployAction"], "submitted");
      assert.equal(submit.outputs["actionResult"], "SUCCESS");
      assert.equal(submit.outputs["jarSha256"], (await import("node:crypto")).createHash("sha256").update(fs.readFileSync(path.join(workspace, "v1/orders-1.0.jar"))).digest("hex"));
      assert.match(submit.outputs["jarId"] ?? "", /orders-1-0\.jar$/);
      const first = submit.outputs["jobId"]!;
      assert.equal((await flinkGet<{ state: string }>(cluster.restUrl, `/jobs/${first}`)).state, "RUNNING");
      assert.match(submit.visibleLog, /healthy: RUNNING for \d+ s with every task RUNNING \(job RUNNING \(tasks: \d+ RUNNING\)\), without a restart, a checkpoint completed after the start, no root exception/);
      assert.equal(submit.outputs["jobStatus"], "RUNNING", "jobStatus is not the last state the health check saw");

      const jarsBefore = await jarNames();
      const again = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 50" });
      assert.equal(again.result, "Succeeded", again.resultMessage);
      assert.equal(again.outputs["deployAction"], "unchanged");
      assert.equal(again.outputs["jobId"], first);
      assert.deepEqual(await jarNames(), jarsBefore, "an unchanged re-run uploaded a jar");
      assert.deepEqual((await live()).map((j) => j.jid), [first]);

      const savepoint = await deployStep({ jarFile: "v2/*.jar", args: "--records-per-second 50", upgradeMode: "savepoint" });
      assert.equal(savepoint.result, "Succeeded", `${savepoint.resultMessage}\n${savepoint.visibleLog}`);
      assert.equal(savepoint.outputs["deployAction"], "upgraded");
      const second = savepoint.outputs["jobId"]!;
      assert.notEqual(second, first);
      assert.ok(savepoint.outputs["previousSavepoint"], "no previousSavepoint");
      assert.equal(await restoredFrom(second), savepoint.outputs["previousSavepoint"]);
      assert.deepEqual((await live()).map((j) => j.jid), [second]);
      assert.equal((await jarNames()).filter((j) => j.includes("orders-1-0")).length, 0, "the older jar was kept after a healthy upgrade");

      // Same jar, other settings: an upgrade too.
      const lastState = await deployStep({ jarFile: "v2/*.jar", args: "--records-per-second 40", upgradeMode: "lastState" });
      assert.equal(lastState.result, "Succeeded", `${lastState.resultMessage}\n${lastState.visibleLog}`);
      assert.equal(lastState.outputs["deployAction"], "upgraded");
      const third = lastState.outputs["jobId"]!;
      assert.ok(lastState.outputs["previousSavepoint"]);
      assert.equal(await restoredFrom(third), lastState.outputs["previousSavepoint"]);

      const stateless = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 40", upgradeMode: "stateless" });
      assert.equal(stateless.result, "Succeeded", `${stateless.resultMessage}\n${stateless.visibleLog}`);
      assert.equal(stateless.outputs["deployAction"], "upgraded");
      const fourth = stateless.outputs["jobId"]!;
      assert.equal(await restoredFrom(fourth), undefined, "a stateless upgrade restored state");
      assert.deepEqual((await live()).map((j) => j.jid), [fourth]);
    });

    it("a new version that fails after start is rolled back to the previous jar and settings from the pre-upgrade savepoint", async () => {
      const [before] = await live();
      assert.ok(before, "no running job from the previous test");
      const jarsBefore = await jarNames();
      const bad = await deployStep({ jarFile: "v2/*.jar", args: "--fail-after-seconds 1", healthCheckSeconds: "8" });
      assert.equal(bad.result, "Failed", bad.visibleLog);
      assert.equal(bad.outputs["deployAction"], "rolledBack");
      assert.equal(bad.outputs["actionResult"], "FAILED");
      assert.match(bad.resultMessage ?? "", /failed its health check: the job (left RUNNING: job )?FAILED .*exception history: 1 failure.*failing on purpose after --fail-after-seconds/s);
      assert.match(bad.resultMessage ?? "", /Rolled back: the previous version runs again/);
      const previousSavepoint = bad.outputs["previousSavepoint"]!;
      assert.ok(previousSavepoint);
      const back = bad.outputs["jobId"]!;
      assert.deepEqual((await live()).map((j) => j.jid), [back], "not exactly the rolled-back execution runs");
      assert.equal((await flinkGet<{ state: string }>(cluster.restUrl, `/jobs/${back}`)).state, "RUNNING");
      assert.equal(await restoredFrom(back), previousSavepoint);
      assert.deepEqual(await jarNames(), jarsBefore, "the failed version's jar was left, or the previous one removed");

      // The rolled-back version is what runs: deploying it again is a no-op.
      const again = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 40" });
      assert.equal(again.outputs["deployAction"], "unchanged", again.resultMessage);
      assert.equal(again.outputs["jobId"], back);
    });

    it("rollbackOnFailure false: a version that keeps restarting fails, is left as it is, and the savepoint holding the last good state is named", async () => {
      const restarting = "restart-strategy.type=fixed-delay\nrestart-strategy.fixed-delay.attempts=1000\nrestart-strategy.fixed-delay.delay=200 ms";
      const bad = await deployStep({ jarFile: "v2/*.jar", args: "--fail-after-seconds 1", healthCheckSeconds: "8", rollbackOnFailure: "false", flinkConfiguration: restarting });
      assert.equal(bad.result, "Failed", bad.visibleLog);
      assert.equal(bad.outputs["deployAction"], "upgraded");
      const savepointPath = bad.outputs["previousSavepoint"]!;
      assert.ok(savepointPath);
      assert.match(bad.resultMessage ?? "", /failed its health check: the job restarted \d+ time\(s\).*failing on purpose/s);
      assert.ok((bad.resultMessage ?? "").includes(`rollbackOnFailure is false: the new version is left as it is. Where the job stands: execution ${bad.outputs["jobId"]} is`), bad.resultMessage);
      assert.ok((bad.resultMessage ?? "").includes(`Savepoint ${savepointPath} holds the last good state`), bad.resultMessage);
      const running = await live();
      assert.ok(running.length <= 1 && running.every((j) => j.jid === bad.outputs["jobId"]), JSON.stringify(running));
    });

    it("a jar pattern matching none or two fails naming jarFile, before any call", async () => {
      const jarsBefore = await jarNames();
      const two = await deployStep({ jarFile: "two/*.jar" });
      assert.equal(two.result, "Failed");
      assert.match(two.resultMessage ?? "", /^Input 'jarFile': "two\/\*\.jar" matches 2 files/);
      const none = await deployStep({ jarFile: "nothing/*.jar" });
      assert.equal(none.result, "Failed");
      assert.match(none.resultMessage ?? "", /^Input 'jarFile': no file matches/);
      assert.deepEqual(await jarNames(), jarsBefore);
    });

    it("cancelled in the middle of an upgrade: says where the job stands, names the savepoint, never two running", async () => {
      // Bring a healthy version back first: the previous test left one that keeps restarting, which cannot take a savepoint.
      const healthy = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 30", healthCheckSeconds: "1", upgradeMode: "lastState" });
      assert.equal(healthy.result, "Succeeded", healthy.resultMessage);
      const cancel = new AbortController();
      const host = fakeHost({ id: "flink", url: cluster.restUrl, scheme: "None", parameters: {} }, workspace);
      const inputs: Record<string, string> = { target: "flinkRest", flinkConnection: "flink", jobName, jarFile: "v2/*.jar", args: "--records-per-second 30", healthCheckSeconds: "30", pollingIntervalInSeconds: "1" };
      host.input = (name) => inputs[name];
      const info = host.logger.info;
      // Cancel once the old version is stopped and its savepoint written, before the new one runs.
      host.logger.info = (message) => {
        info(message);
        if (message.startsWith("Savepoint written")) cancel.abort(new Error("received SIGINT"));
      };
      await assert.rejects(executeTask(TASKS.FlinkJobDeploy, host, cancel.signal), (error: Error) => {
        assert.equal(error.name, "CancelledError", error.message);
        // Read with a signal of its own: never "unknown" because the step's own signal was aborted.
        assert.match(error.message, /cancelled while .*Where the job stands: (?:execution [0-9a-f]{32} is [A-Z]+|no execution of job '[^']+' is running \(the newest, [0-9a-f]{32}, is [A-Z]+\))\. Savepoint \S+ holds the last good state/s);
        return true;
      });
      const running = await live();
      assert.ok(running.length <= 1, `two executions run: ${JSON.stringify(running)}`);
    });
    it("a rollback that fails too says where the job stands and which savepoint holds the last good state", async () => {
      // A healthy version runs (the cancel above left none running).
      const healthy = await deployStep({ jarFile: "v1/*.jar", args: "--records-per-second 20", healthCheckSeconds: "1" });
      assert.equal(healthy.result, "Succeeded", healthy.resultMessage);
      const previousJar = healthy.outputs["jarId"]!;
      const host = fakeHost({ id: "flink", url: cluster.restUrl, scheme: "None", parameters: {} }, workspace);
      const inputs: Record<string, string> = { target: "flinkRest", flinkConnection: "flink", jobName, jarFile: "v2/*.jar", args: "--fail-after-seconds 1", healthCheckSeconds: "8", pollingIntervalInSeconds: "1" };
      host.input = (name) => inputs[name];
      const info = host.logger.info;
      // The previous version's jar vanishes from the JobManager (as after its restart) once the new one is up.
      let removed: Promise<Response> | undefined;
      host.logger.info = (message) => {
        info(message);
        if (message.startsWith("Uploaded ")) removed = fetch(`${cluster.restUrl}/jars/${previousJar}`, { method: "DELETE" });
      };
      await assert.rejects(executeTask(TASKS.FlinkJobDeploy, host), (error: Error) => {
        assert.match(error.message, /failed its health check: .*The rollback failed too: Flink refused to run jar .*Where the job stands: no execution of job '.*' is running \(the newest, [0-9a-f]{32}, is (?:FAILED|CANCELED)\)\. Savepoint \S+ holds the last good state/s);
        return true;
      });
      assert.equal((await removed)?.ok, true);
      assert.deepEqual(await live(), []);
    });

    // Defects of issue 18, each followed by the re-run of the same step. A second job name, so the cases above do not matter.
    const other = `${jobName}-b`;
    const liveOf = async (name: string) => (await flinkGet<Overview>(cluster.restUrl, "/jobs/overview")).jobs.filter((j) => j.name === name && !["FINISHED", "CANCELED", "FAILED"].includes(j.state));
    const stateOf = async (jobId: string) => (await flinkGet<{ state: string }>(cluster.restUrl, `/jobs/${jobId}`)).state;
    /** Frees the test bed's slots for the next case. */
    const cancelAll = async (name: string) => {
      for (const j of await liveOf(name)) await fetch(`${cluster.restUrl}/jobs/${j.jid}?mode=cancel`, { method: "PATCH" });
    };

    it("a failed stop-with-savepoint leaves the old version running; the re-run upgrades it (never 'unchanged')", async () => {
      const v1 = await deployStep({ jobName: other, jarFile: "v1/*.jar" });
      assert.equal(v1.result, "Succeeded", v1.resultMessage);
      const first = v1.outputs["jobId"]!;
      // No s3 file system on the test bed: the savepoint fails, and Flink keeps the job running.
      const v2 = { jobName: other, jarFile: "v2/*.jar", savepointDirectory: "s3://savepoints-prod/flink/orders" };
      for (const attempt of ["first", "re-run"]) {
        const failed = await deployStep(v2);
        assert.equal(failed.result, "Failed", `${attempt}: ${failed.resultMessage}`);
        assert.notEqual(failed.outputs["deployAction"], "unchanged", `${attempt}: a version that never ran was called unchanged`);
        assert.match(failed.visibleLog, new RegExp(`Plan for job '${other}': upgrade — execution ${first} \\(RUNNING\\) runs another jar`), attempt);
        assert.match(failed.resultMessage ?? "", /stop-with-savepoint of job .* failed/);
        assert.deepEqual((await liveOf(other)).map((j) => j.jid), [first], `${attempt}: the old version is not the one running`);
      }
      const fixed = await deployStep({ jobName: other, jarFile: "v2/*.jar" });
      assert.equal(fixed.result, "Succeeded", fixed.resultMessage);
      assert.equal(fixed.outputs["deployAction"], "upgraded");
      assert.equal(await restoredFrom(fixed.outputs["jobId"]!), fixed.outputs["previousSavepoint"]);
    });

    it("a new version whose main() throws after the stop is rolled back from the pre-upgrade savepoint; the re-run ends the same way", async () => {
      const [before] = await liveOf(other);
      assert.ok(before, "no running version from the previous test");
      for (const attempt of ["first", "re-run"]) {
        const bad = await deployStep({ jobName: other, jarFile: "v1/*.jar", args: "--throw-in-main" });
        assert.equal(bad.result, "Failed", `${attempt}: ${bad.visibleLog}`);
        assert.equal(bad.outputs["deployAction"], "rolledBack", `${attempt}: ${bad.resultMessage}`);
        assert.match(bad.resultMessage ?? "", /did not start: The job's main\(\) failed: CountingJob: --throw-in-main .*Flink refused to run jar .*Rolled back: the previous version runs again/s);
        const back = bad.outputs["jobId"]!;
        assert.deepEqual((await liveOf(other)).map((j) => j.jid), [back], `${attempt}: not exactly the rolled-back execution runs`);
        assert.equal(await stateOf(back), "RUNNING");
        assert.equal(bad.outputs["jobStatus"], "RUNNING");
        assert.equal(await restoredFrom(back), bad.outputs["previousSavepoint"]);
      }
      // The rolled-back execution runs the previous jar with its settings: deploying that again changes nothing.
      const again = await deployStep({ jobName: other, jarFile: "v2/*.jar" });
      assert.equal(again.outputs["deployAction"], "unchanged", again.resultMessage);
    });

    it("no slots for the new version: not RUNNING within its budget, it is rolled back in the time kept for that", async () => {
      const tooWide = { jobName: other, jarFile: "v1/*.jar", parallelism: "64", waitTimeoutInMinutes: "2" };
      const bad = await deployStep(tooWide);
      assert.equal(bad.result, "Failed", bad.visibleLog);
      assert.equal(bad.outputs["deployAction"], "rolledBack", bad.resultMessage);
      assert.match(bad.resultMessage ?? "", /not healthy within its .*last seen: job RUNNING \(tasks: .*(?:CREATED|SCHEDULED|DEPLOYING)/s);
      const back = bad.outputs["jobId"]!;
      assert.deepEqual((await liveOf(other)).map((j) => j.jid), [back]);
      assert.equal(await stateOf(back), "RUNNING");
      const again = await deployStep({ jobName: other, jarFile: "v2/*.jar" });
      assert.equal(again.outputs["deployAction"], "unchanged", `the re-run found the old version not healthy: ${again.visibleLog}`);
    });

    it("a job stopped with FlinkJobStop, then deployed, starts from the stop's savepoint; the re-run is unchanged", async () => {
      const stop = await runTask({
        task: "FlinkJobStop",
        inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName: other, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "3" },
        connection: { id: "flink-conn", url: cluster.restUrl, scheme: "None", parameters: {}, data: {} },
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 240_000,
      });
      assert.equal(stop.result, "Succeeded", stop.resultMessage);
      const savepoint = stop.outputs["savepointPath"]!;
      assert.deepEqual(await liveOf(other), []);
      const plan = await deployStep({ jobName: other, jarFile: "v2/*.jar", dryRun: "true" });
      assert.equal(plan.result, "Succeeded", plan.resultMessage);
      assert.equal(plan.outputs["deployAction"], "plan:submitted");
      assert.ok(plan.visibleLog.includes(`it starts from the savepoint ${savepoint}`), plan.visibleLog);
      assert.deepEqual(await liveOf(other), [], "dryRun started something");
      const deployed = await deployStep({ jobName: other, jarFile: "v2/*.jar" });
      assert.equal(deployed.result, "Succeeded", deployed.resultMessage);
      assert.equal(deployed.outputs["deployAction"], "submitted");
      assert.equal(await restoredFrom(deployed.outputs["jobId"]!), savepoint, "started without the stop's state");
      const again = await deployStep({ jobName: other, jarFile: "v2/*.jar" });
      assert.equal(again.outputs["deployAction"], "unchanged", again.resultMessage);
      assert.equal(again.outputs["jobId"], deployed.outputs["jobId"]);
      await cancelAll(other);
    });

    it("a fresh deploy that keeps restarting fails its health gate; the re-run does not call it unchanged; a good version then runs healthy", async () => {
      const name = `${jobName}-c`;
      const restarting = "restart-strategy.type=fixed-delay\nrestart-strategy.fixed-delay.attempts=1000\nrestart-strategy.fixed-delay.delay=200 ms";
      const step = { jobName: name, jarFile: "v2/*.jar", args: "--fail-after-seconds 1", flinkConfiguration: restarting, healthCheckSeconds: "8" };
      const bad = await deployStep(step);
      assert.equal(bad.result, "Failed", bad.visibleLog);
      assert.equal(bad.outputs["deployAction"], "submitted");
      const again = await deployStep(step);
      assert.equal(again.result, "Failed", `the re-run reported success for a job that keeps restarting: ${again.visibleLog}`);
      assert.equal(again.outputs["deployAction"], "repaired");
      assert.match(again.visibleLog, /Plan for job '.*': repair — .* is not healthy/);
      assert.ok((await liveOf(name)).length <= 1, "two executions run");
      const good = await deployStep({ jobName: name, jarFile: "v1/*.jar", upgradeMode: "stateless" });
      assert.equal(good.result, "Succeeded", good.visibleLog);
      assert.deepEqual((await liveOf(name)).map((j) => j.jid), [good.outputs["jobId"]]);
      assert.equal(await stateOf(good.outputs["jobId"]!), "RUNNING");
      await cancelAll(name);
    });

    it("realistic inputs (entry class, long args, parallelism, an abfss savepoint directory, flinkConfiguration) are never refused; the re-run is unchanged", async () => {
      const name = `${jobName}-d`;
      const step = {
        jobName: name,
        jarFile: "v1/*.jar",
        entryClass: "testbed.flink.CountingJob",
        args: "--records-per-second 25 --job-name orders-enrichment-kafka-0.kafka.svc.cluster.local-9092-orders-orders-prod-westeurope",
        parallelism: "2",
        savepointDirectory: "abfss://savepoints@ordersprodstorage.dfs.core.windows.net/flink/orders-enrichment/savepoints",
        flinkConfiguration: "execution.checkpointing.interval=7 s\nstate.backend.type=hashmap",
      };
      const first = await deployStep(step);
      assert.equal(first.result, "Succeeded", first.visibleLog);
      assert.equal(first.outputs["deployAction"], "submitted");
      const jobId = first.outputs["jobId"]!;
      const checkpointing = await flinkGet<{ interval: number }>(cluster.restUrl, `/jobs/${jobId}/checkpoints/config`);
      assert.equal(checkpointing.interval, 7000, "the job does not run with the given flinkConfiguration");
      assert.match(first.visibleLog, /too long to keep with its jar on the cluster: this run uses them, but .* must be given .* again/);
      const again = await deployStep(step);
      assert.equal(again.result, "Succeeded", again.resultMessage);
      assert.equal(again.outputs["deployAction"], "unchanged");
      assert.equal(again.outputs["jobId"], jobId);
      await fetch(`${cluster.restUrl}/jobs/${jobId}?mode=cancel`, { method: "PATCH" });
    });

    it("Submit → Stop → Start keeps the flinkConfiguration; a failed Update's advice starts the jar that ran, not the failed one", async () => {
      const name = `${jobName}-e`;
      const task = (t: string, inputs: Record<string, string>) =>
        runTask({
          task: t,
          inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName: name, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "3", ...inputs },
          connection: { id: "flink-conn", url: cluster.restUrl, scheme: "None", parameters: {}, data: {} },
          env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
          timeoutMs: 240_000,
        });
      const interval = async (jobId: string) => (await flinkGet<{ interval: number }>(cluster.restUrl, `/jobs/${jobId}/checkpoints/config`)).interval;
      const submit = await task("FlinkJobSubmit", { jarFile: "v1/*.jar", args: "--records-per-second 25", flinkConfiguration: "execution.checkpointing.interval=7 s" });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      assert.equal(await interval(submit.outputs["jobId"]!), 7000);
      const stop = await task("FlinkJobStop", {});
      assert.equal(stop.result, "Succeeded", stop.resultMessage);
      const start = await task("FlinkJobStart", { startMode: "savepoint", savepointName: stop.outputs["savepointPath"]! });
      assert.equal(start.result, "Succeeded", start.resultMessage);
      assert.equal(await interval(start.outputs["jobId"]!), 7000, "Start forgot the flinkConfiguration given at Submit");
      const v1Jar = start.outputs["jarId"]!;

      const update = await task("FlinkJobUpdate", { upgradeMode: "savepoint", jarFile: "v2/*.jar", args: "--throw-in-main" });
      assert.equal(update.result, "Failed", update.visibleLog);
      const match = /FlinkJobStart with startMode savepoint and savepointName (\S+) starts it again with the jar and settings it ran \(jar (\S+)\)/.exec(update.resultMessage ?? "");
      assert.ok(match, update.resultMessage);
      // The advice names the jar by its listed id, shortened to its UUID.
      assert.ok(v1Jar.startsWith(match[2]!.replace(/…$/, "")), `${match[2]} is not ${v1Jar}`);
      // Following the advice brings back the previous version, not the jar that failed.
      const back = await task("FlinkJobStart", { startMode: "savepoint", savepointName: match[1]! });
      assert.equal(back.result, "Succeeded", back.resultMessage);
      assert.equal(back.outputs["jarId"], v1Jar);
      assert.equal(await stateOf(back.outputs["jobId"]!), "RUNNING");
      assert.equal(await restoredFrom(back.outputs["jobId"]!), match[1]);
      assert.equal(await interval(back.outputs["jobId"]!), 7000);
    });
  });
}
