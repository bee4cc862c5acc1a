import assert from "node:assert/strict";
import type { TaskRun } from "../harness/agent";
import { runOnEmulator } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";
import { assertNoCredentialsInLog } from "../harness/log-hygiene";

const SAVEPOINT_PATH = /^abfss?:\/\/\S+\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;

describe("the job lifecycle end to end (each task bundled, against the emulator)", function () {
  this.timeout(120_000);
  const fixture = useEmulator();
  let counter = 0;

  const run = (task: string, inputs: Record<string, string>, options = {}) => runOnEmulator(fixture.emulator, task, inputs, options);
  const ok = (r: TaskRun) => assert.equal(r.result, "Succeeded", `${r.resultMessage}\n${r.visibleLog}`);

  /** A running job of a fresh name, with a savepoint directory. */
  function runningJob(): string {
    const jobName = `job-${++counter}`;
    fixture.emulator.jobs.seedRunning(jobName, { flinkConfiguration: { parallelism: "2", "savepoint.directory": "abfss://state@acct.dfs.core.windows.net/sp" } });
    return jobName;
  }
  const record = (jobName: string) => fixture.emulator.jobs.list().filter((r) => r.properties.jobName === jobName).pop()?.properties;

  describe("FlinkJobStop", () => {
    it("stops with a savepoint and reports the savepoint this action wrote", async () => {
      const jobName = runningJob();
      const r = await run("FlinkJobStop", { jobName }, { debug: true });
      ok(r);
      assert.equal(r.outputs["jobStatus"], "STOPPED");
      assert.equal(r.outputs["actionResult"], "SUCCESS");
      assert.match(r.outputs["savepointPath"] ?? "", SAVEPOINT_PATH);
      assert.match(r.outputs["savepointPath"]!, /\/savepoint-25e318-[0-9a-f]{12}$/);
      assert.equal(r.outputs["savepointPath"], record(jobName)?.lastSavePoint);
      assert.equal(r.outputs["lastSavepoint"], r.outputs["savepointPath"]);
      assert.equal(r.outputs["jobOutput"], `Savepoint completed. Path: ${r.outputs["savepointPath"]}`);
      assert.match(r.outputs["runId"] ?? "", /^job-/);
      assert.equal(r.outputs["jobId"], "25e318907f786a2c6aee392df6580035");
      assertNoCredentialsInLog(r, fixture.emulator);
    });

    it("names the job's record by runId in the body", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobStop", { jobName }));
      const body = fixture.emulator.log.entries({ route: "runJob", method: "POST" })[0]!.body as { properties: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.properties).sort(), ["action", "jobName", "jobType", "runId"]);
      assert.equal(body.properties["runId"], record(jobName)?.runId);
    });

    it("fails with the cluster's text and still reports the savepoint a failed stop wrote", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "actionFail", action: "STOP", jobName, jobStatus: "STOP-FAILED", keepSavepoint: true, jobOutput: "Stop failed after the savepoint: job did not terminate" });
      const r = await run("FlinkJobStop", { jobName });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /STOP of job '.*' ended FAILED with status STOP-FAILED\. The cluster said: Stop failed after the savepoint/);
      assert.equal(r.outputs["actionResult"], "FAILED");
      assert.match(r.outputs["savepointPath"] ?? "", SAVEPOINT_PATH);
    });

    it("refuses when another action is still IN_PROGRESS, naming it, without posting", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "neverFinish", action: "SAVEPOINT", jobName });
      // The first step is cancelled by the pipeline (SIGTERM) once the second has had its say.
      let secondDone!: () => void;
      const cancelFirst = new Promise<void>((resolve) => (secondDone = resolve));
      const first = run("FlinkSavepoint", { jobName }, { signal: { name: "SIGTERM", after: cancelFirst } });
      // The second step starts once the cluster lists the first action IN_PROGRESS, however slow the machine.
      for (let i = 0; record(jobName)?.action !== "SAVEPOINT" || record(jobName)?.actionResult !== "IN_PROGRESS"; i++) {
        assert.ok(i < 600, "the SAVEPOINT never showed IN_PROGRESS");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const second = await run("FlinkJobStop", { jobName });
      secondDone();
      assert.equal(second.result, "Failed");
      assert.match(second.resultMessage ?? "", /has SAVEPOINT action still IN_PROGRESS/);
      assert.equal(fixture.emulator.log.entries({ route: "runJob", method: "POST" }).filter((e) => (e.body as { properties: { action: string } }).properties.action === "STOP").length, 0);
      const cancelled = await first;
      assert.equal(cancelled.result, "Failed");
      // It says what it sent and what to check (what it last saw depends on how far its own reads had got).
      assert.match(cancelled.resultMessage ?? "", /cancelled while waiting for SAVEPOINT on job '[^']+'\. SAVEPOINT was posted \(runJob request id [0-9a-f-]{36}\)\. The action may continue on the cluster; last seen: .*Check the job with FlinkJobStatus/);
      // The agent kills a task that outlives its cancel grace: the step must end well within it.
      assert.ok((cancelled.msAfterSignal ?? Infinity) < 20_000, `took ${cancelled.msAfterSignal} ms to stop after SIGTERM`);
    });

    it("fails fast on a job that does not exist, naming the jobs on the cluster", async () => {
      const existing = runningJob();
      const r = await run("FlinkJobStop", { jobName: "no-such-job" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Job 'no-such-job' was not found on cluster 'flinkcluster' \(pool 'flinkpool'\)\. Jobs on the cluster: .*\b/);
      assert.ok(r.resultMessage!.includes(existing));
      assert.equal(fixture.emulator.log.entries({ route: "runJob" }).length, 0);
    });
  });

  describe("FlinkJobStart", () => {
    it("starts from the savepoint a stop step reported (its full path)", async () => {
      const jobName = runningJob();
      const stop = await run("FlinkJobStop", { jobName });
      ok(stop);
      const start = await run("FlinkJobStart", { jobName, savepointName: stop.outputs["savepointPath"]! });
      ok(start);
      assert.equal(start.outputs["jobStatus"], "RUNNING");
      assert.equal(start.outputs["actionResult"], "SUCCESS");
      assert.notEqual(start.outputs["jobId"], stop.outputs["jobId"]);
      const post = fixture.emulator.log.entries({ route: "runJob", method: "POST" }).pop()!.body as { properties: Record<string, unknown> };
      assert.equal(post.properties["action"], "START");
      assert.equal(post.properties["savePointName"], stop.outputs["savepointPath"]);
    });

    it("starts from the last savepoint when none is named", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobStop", { jobName }));
      const start = await run("FlinkJobStart", { jobName });
      ok(start);
      const post = fixture.emulator.log.entries({ route: "runJob", method: "POST" }).pop()!.body as { properties: Record<string, unknown> };
      assert.equal(post.properties["savePointName"], undefined);
    });

    it("refuses a savepoint the job does not have, listing the ones it has", async () => {
      const jobName = runningJob();
      const stop = await run("FlinkJobStop", { jobName });
      ok(stop);
      const r = await run("FlinkJobStart", { jobName, savepointName: "savepoint-25e318-000000000000" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /has no savepoint savepoint-25e318-000000000000\. Its savepoints: /);
      assert.ok(r.resultMessage!.includes(stop.outputs["savepointPath"]!));
      assert.equal(fixture.emulator.log.entries({ route: "runJob", method: "POST" }).filter((e) => (e.body as { properties: { action: string } }).properties.action === "START").length, 0);
    });

    it("explains an incompatible-state restore failure", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobStop", { jobName }));
      fixture.emulator.faults.add({ kind: "actionFail", action: "START", jobName, jobStatus: "FAILED", jobOutput: "Job execution failed. Cannot map checkpoint/savepoint state for operator 2b3c to the new program" });
      const r = await run("FlinkJobStart", { jobName });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Cannot map checkpoint\/savepoint state for operator 2b3c/);
      assert.match(r.resultMessage ?? "", /allowNonRestoredState|upgradeMode stateless/);
    });

    it("relaunches with RE_LAUNCH", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobCancel", { jobName }));
      const r = await run("FlinkJobStart", { jobName, startMode: "relaunch" });
      ok(r);
      assert.equal(record(jobName)?.action, "RE_LAUNCH");
      assert.equal(r.outputs["jobStatus"], "RUNNING");
    });

    it("refuses RE_LAUNCH on 2023-06-01-preview before any call, saying which api-version to choose", async () => {
      const r = await run("FlinkJobStart", { jobName: "any", startMode: "relaunch", apiVersion: "2023-06-01-preview" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /RE_LAUNCH needs apiVersion 2023-11-01-preview or later/);
      assert.equal(fixture.emulator.log.entries().length, 0);
    });
  });

  describe("FlinkJobUpdate", () => {
    for (const [mode, action] of [
      ["savepoint", "UPDATE"],
      ["stateless", "STATELESS_UPDATE"],
      ["lastState", "LAST_STATE_UPDATE"],
    ] as const) {
      it(`runs ${action} for upgradeMode ${mode}`, async () => {
        const jobName = runningJob();
        const r = await run("FlinkJobUpdate", { jobName, upgradeMode: mode, args: "--window 10m" });
        ok(r);
        assert.equal(r.outputs["actionResult"], "SUCCESS");
        assert.equal(r.outputs["jobStatus"], "RUNNING");
        const post = fixture.emulator.log.entries({ route: "runJob", method: "POST" }).pop()!.body as { properties: Record<string, unknown> };
        assert.equal(post.properties["action"], action);
        assert.equal(post.properties["args"], "--window 10m");
        assert.equal(record(jobName)?.action, action);
      });
    }

    it("refuses LAST_STATE_UPDATE on 2023-06-01-preview before any call", async () => {
      const r = await run("FlinkJobUpdate", { jobName: "any", upgradeMode: "lastState", apiVersion: "2023-06-01-preview" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /^Input 'upgradeMode': LAST_STATE_UPDATE needs apiVersion 2023-11-01-preview/);
      assert.equal(fixture.emulator.log.entries().length, 0);
    });
  });

  describe("FlinkSavepoint", () => {
    it("triggers a savepoint and reports its path; the job keeps running", async () => {
      const jobName = runningJob();
      const r = await run("FlinkSavepoint", { jobName });
      ok(r);
      assert.match(r.outputs["savepointPath"] ?? "", SAVEPOINT_PATH);
      assert.equal(r.outputs["jobStatus"], "RUNNING");
      assert.equal(r.outputs["savepointPath"], record(jobName)?.lastSavePoint);
    });

    it("lists savepoints as a JSON array with their count", async () => {
      const jobName = runningJob();
      const first = await run("FlinkSavepoint", { jobName, operation: "trigger" });
      const second = await run("FlinkSavepoint", { jobName, operation: "trigger" });
      ok(first);
      ok(second);
      const list = await run("FlinkSavepoint", { jobName, operation: "list" });
      ok(list);
      const savepoints = (JSON.parse(list.outputs["savepoints"]!) as Array<{ path: string }>).map((e) => e.path);
      assert.deepEqual(savepoints, fixture.emulator.jobs.savepoints(jobName));
      assert.ok(savepoints.includes(first.outputs["savepointPath"]!) && savepoints.includes(second.outputs["savepointPath"]!));
      assert.equal(list.outputs["savepointCount"], String(savepoints.length));
    });
  });

  describe("FlinkJobCancel and FlinkJobDelete", () => {
    it("cancels a job: status CANCELED", async () => {
      const jobName = runningJob();
      const r = await run("FlinkJobCancel", { jobName });
      ok(r);
      assert.equal(r.outputs["jobStatus"], "CANCELED");
      assert.equal(r.outputs["actionResult"], "SUCCESS");
    });

    it("deletes a cancelled job's record; the record is gone", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobCancel", { jobName }));
      const r = await run("FlinkJobDelete", { jobName });
      ok(r);
      assert.equal(r.outputs["actionResult"], "SUCCESS");
      assert.equal(r.outputs["jobName"], jobName);
      assert.equal(record(jobName), undefined);
    });

    it("fails with the cluster's reason when deleting a running job", async () => {
      const jobName = runningJob();
      const r = await run("FlinkJobDelete", { jobName });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /DELETE of job '.*' ended FAILED/);
      assert.ok(record(jobName), "the record must still be there");
    });

    it("says clearly that there is nothing to delete for a missing job", async () => {
      const r = await run("FlinkJobDelete", { jobName: "never-existed" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Job 'never-existed' does not exist on cluster 'flinkcluster' \(pool 'flinkpool'\), so there is nothing to delete/);
    });
  });

  describe("FlinkJobStatus", () => {
    it("reads every job: jobs holds the records' properties, jobCount their number", async () => {
      runningJob();
      const r = await run("FlinkJobStatus", {});
      ok(r);
      const jobs = JSON.parse(r.outputs["jobs"]!) as { jobName: string }[];
      assert.deepEqual(jobs, fixture.emulator.jobs.list().map((j) => j.properties));
      assert.equal(r.outputs["jobCount"], String(jobs.length));
    });

    it("reads one job and sets its record's outputs", async () => {
      const jobName = runningJob();
      const r = await run("FlinkJobStatus", { jobName });
      ok(r);
      assert.equal(r.outputs["jobStatus"], "RUNNING");
      assert.equal(r.outputs["jobCount"], "1");
      assert.equal(r.outputs["runId"], record(jobName)?.runId);
      assert.equal(fixture.emulator.log.entries({ route: "runJob" }).length, 0);
    });

    it("fails for a job with no record, naming the jobs that exist", async () => {
      const existing = runningJob();
      const r = await run("FlinkJobStatus", { jobName: "ghost" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Job 'ghost' was not found/);
      assert.ok(r.resultMessage!.includes(existing));
    });

    it("waits until the job reaches waitForStatus", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobStop", { jobName }));
      const start = run("FlinkJobStart", { jobName, waitForCompletion: "false" });
      const status = await run("FlinkJobStatus", { jobName, waitForStatus: "RUNNING" });
      ok(await start);
      ok(status);
      assert.equal(status.outputs["jobStatus"], "RUNNING");
    });

    it("fails at once when the job reaches a failure status instead", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "crash", action: "STATELESS_UPDATE", jobName, afterMs: 500 });
      ok(await run("FlinkJobUpdate", { jobName, upgradeMode: "stateless" }));
      const r = await run("FlinkJobStatus", { jobName, waitForStatus: "STOPPED" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /reached the failure status FAILED while waiting for STOPPED/);
    });
  });

  describe("waitForCompletion false", () => {
    it("succeeds once the cluster accepted the action, with actionResult IN_PROGRESS", async () => {
      const jobName = runningJob();
      const r = await run("FlinkJobCancel", { jobName, waitForCompletion: "false" });
      ok(r);
      assert.equal(r.outputs["actionResult"], "IN_PROGRESS");
    });
  });
});
