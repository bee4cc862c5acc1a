/**
 * What a user sees when the service behaves as one of the reference's GUESSes says it might:
 * each suite runs the bundled tasks against an emulator with one switch flipped from its default.
 * No behaviour here relies on the emulator's defaults.
 */
import assert from "node:assert/strict";
import type { TaskRun } from "../harness/agent";
import { runOnEmulator } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";

const ok = (r: TaskRun) => assert.equal(r.result, "Succeeded", `${r.resultMessage}\n${r.visibleLog}`);
type Post = { properties: { action: string; jobName: string; runId?: string } };

describe("GUESS: the job list lists the newest record first", function () {
  this.timeout(180_000);
  const fixture = useEmulator({ timeScale: 10, guesses: { listOrder: "newestFirst" } });
  const run = (task: string, inputs: Record<string, string>) => runOnEmulator(fixture.emulator, task, inputs);
  const submitInputs = (jobName: string) => ({ jobName, jobJarDirectory: fixture.emulator.knownJar.jobJarDirectory, jarName: fixture.emulator.knownJar.jarName, entryClass: fixture.emulator.knownJar.entryClass });

  it("status reports the running record, stop acts on it, and a second submit of the running name is refused", async () => {
    const jobName = "newest-first";
    fixture.emulator.jobs.seed({ jobName, ...fixture.emulator.knownJar, action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobId: "0123456789abcdef0123456789abcdef" });
    const submitted = await run("FlinkJobSubmit", submitInputs(jobName));
    ok(submitted);

    const status = await run("FlinkJobStatus", { jobName });
    ok(status);
    assert.equal(status.outputs["jobStatus"], "RUNNING", "the live record, not the old stopped one listed after it");
    assert.equal(status.outputs["runId"], submitted.outputs["runId"]);

    fixture.emulator.log.clear();
    const again = await run("FlinkJobSubmit", submitInputs(jobName));
    assert.equal(again.result, "Failed");
    assert.match(again.resultMessage ?? "", /is already RUNNING/);
    assert.equal(fixture.emulator.log.entries({ route: "runJob" }).length, 0, "nothing posted");

    const stop = await run("FlinkJobStop", { jobName });
    ok(stop);
    const posted = fixture.emulator.log.entries({ route: "runJob", method: "POST" })[0]!.body as Post;
    assert.equal(posted.properties.runId, submitted.outputs["runId"], "STOP names the running record");
    assert.equal(stop.outputs["jobStatus"], "STOPPED");
    // Flink names a savepoint after the first six hex digits of the job it came from.
    assert.match(stop.outputs["savepointPath"] ?? "", new RegExp(`/savepoint-${submitted.outputs["jobId"]!.slice(0, 6)}-[0-9a-f]{12}$`));
  });
});

describe("GUESS: LIST_SAVEPOINT frames its list as a JSON array", function () {
  this.timeout(180_000);
  const fixture = useEmulator({ timeScale: 10, guesses: { listSavepointFormat: "json" } });
  const run = (task: string, inputs: Record<string, string>) => runOnEmulator(fixture.emulator, task, inputs);

  it("list reports every savepoint, and a start from an older named savepoint is not refused", async () => {
    const dir = "abfs://flink@flinkemulatorstore.dfs.core.windows.net/json-framing/savepoints";
    const older = `${dir}/savepoint-25e318-0000000000a1`;
    const last = `${dir}/savepoint-25e318-0000000000a2`;
    fixture.emulator.jobs.seedRunning("json-framing", { action: "STOP", status: "STOPPED", savepoints: [older, last], lastSavePoint: last, jobOutput: `Savepoint completed. Path: ${last}` });

    const list = await run("FlinkSavepoint", { jobName: "json-framing", operation: "list" });
    ok(list);
    // HDInsight tells paths only: time, origin, execution and restoredByLive are null (not known).
    assert.deepEqual(JSON.parse(list.outputs["savepoints"] ?? "[]"), [older, last].map((path) => ({ path, time: null, origin: null, jobId: null, restoredByLive: null })));
    assert.equal(list.outputs["savepointCount"], "2");

    const start = await run("FlinkJobStart", { jobName: "json-framing", savepointName: older });
    ok(start);
    assert.equal(start.outputs["jobStatus"], "RUNNING");
  });
});

describe("GUESS: a $filter quoting the service does not take is answered with an empty 200", function () {
  this.timeout(180_000);
  const fixture = useEmulator({ timeScale: 10, guesses: { filterQuoting: "unquoted", unknownFilterQuoting: "emptyList" } });
  const run = (task: string, inputs: Record<string, string>) => runOnEmulator(fixture.emulator, task, inputs);

  it("the job is still found (the whole list tells), read and cancelled", async () => {
    fixture.emulator.jobs.seedRunning("quoting");
    const status = await run("FlinkJobStatus", { jobName: "quoting" });
    ok(status);
    assert.equal(status.outputs["jobStatus"], "RUNNING");
    const cancel = await run("FlinkJobCancel", { jobName: "quoting" });
    ok(cancel);
    assert.equal(cancel.outputs["jobStatus"], "CANCELED");
  });
});

describe("GUESS: the operation answers 200 with no status, for ever", function () {
  this.timeout(180_000);
  const fixture = useEmulator({ timeScale: 10, guesses: { operationStatus: "noStatus" } });

  it("the finished action is read from the job list, long before the timeout", async () => {
    fixture.emulator.jobs.seedRunning("no-status");
    const r = await runOnEmulator(fixture.emulator, "FlinkJobCancel", { jobName: "no-status", waitTimeoutInMinutes: "2" });
    ok(r);
    assert.equal(r.outputs["actionResult"], "SUCCESS");
    assert.equal(r.outputs["jobStatus"], "CANCELED");
    assert.ok(r.durationMs < 60_000, `took ${r.durationMs} ms of a 2-minute timeout`);
  });
});

describe("a stale window longer than 60 s", function () {
  this.timeout(300_000);
  // 700 s of service time, 70 s of ours at ten times the speed.
  const fixture = useEmulator({ timeScale: 10, staleWindowMs: 700_000 });

  it("a second savepoint reports the savepoint it wrote, never the previous one the record still shows", async () => {
    const previous = "abfs://flink@flinkemulatorstore.dfs.core.windows.net/stale/savepoints/savepoint-25e318-0000000000b1";
    fixture.emulator.jobs.seedRunning("stale-long", { action: "SAVEPOINT", savepoints: [previous], lastSavePoint: previous, jobOutput: `Savepoint completed. Path: ${previous}` });
    const r = await runOnEmulator(fixture.emulator, "FlinkSavepoint", { jobName: "stale-long", waitTimeoutInMinutes: "5" }, { timeoutMs: 290_000 });
    ok(r);
    assert.match(r.outputs["savepointPath"] ?? "", /savepoint-25e318-/);
    assert.notEqual(r.outputs["savepointPath"], previous);
    assert.equal(r.outputs["savepointPath"], fixture.emulator.jobs.savepoints("stale-long").at(-1));
  });
});
