/**
 * The judgement of "is this action done?", case by case, in memory: records before, records now,
 * the operation's state and the clock in, a verdict out.
 */
import assert from "node:assert/strict";
import { currentRecord, type JobRecord } from "../../../src/backends/hdinsight-aks/job-record";
import { judge, type JudgeContext, type JudgeMemory, type OperationState, showsAcceptance, type Verdict } from "../../../src/backends/hdinsight-aks/judge";
import type { JobAction } from "../../../src/jobs/backend";
import { record, running } from "./fake-jobs-api";

const A = "job-aaa-4aaa-8aaa-aaaaaaaaaaaa";
const B = "job-bbb-4bbb-9bbb-bbbbbbbbbbbb";
const SP1 = "abfs://state@acct.dfs.core.windows.net/sp/savepoint-25e318-111111111111";
const SP2 = "abfs://state@acct.dfs.core.windows.net/sp/savepoint-25e318-222222222222";

function contextFor(action: JobAction, before: JobRecord[], options: Partial<JudgeContext> = {}): JudgeContext {
  const target = action === "NEW" ? undefined : currentRecord(before, "orders");
  return {
    action,
    jobName: "orders",
    before,
    ...(target ? { targetKey: target.properties.runId! } : {}),
    byRunId: true,
    silentLimitMs: 120_000,
    ...options,
  };
}

/** Feeds reads to the judge in order, as the wait does; returns every verdict. */
function run(context: JudgeContext, reads: Array<{ records: JobRecord[]; operation?: OperationState; at?: number }>): Verdict[] {
  let memory: JudgeMemory = {};
  return reads.map((read, i) => {
    const judged = judge(context, memory, { records: read.records, operation: read.operation ?? "succeeded", now: read.at ?? i * 1000 });
    memory = judged.memory;
    return judged.verdict;
  });
}

describe("the judge (pure): is this action done?", () => {
  it("waits out the stale window: the previous result is not this action's", () => {
    const before = [running(A)];
    const verdicts = run(contextFor("STOP", before), [
      { records: [running(A)], operation: "pending" },
      { records: [running(A, { action: "STOP", actionResult: "IN_PROGRESS" })] },
      { records: [running(A, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobOutput: `Savepoint completed. Path: ${SP1}` })] },
    ]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "waiting", "done"]);
    assert.equal(verdicts[2]!.kind === "done" && verdicts[2]!.result, "SUCCESS");
  });

  it("never takes an unchanged record as a changing action's result, however long it stays unchanged", () => {
    // The last action was a SAVEPOINT; a second SAVEPOINT's record looks the same until it is done.
    const previous = running(A, { action: "SAVEPOINT", actionResult: "SUCCESS", jobOutput: `Savepoint completed. Path: ${SP1}`, lastSavePoint: SP1 });
    const hour = 60 * 60_000;
    for (const action of ["SAVEPOINT", "UPDATE", "STOP", "CANCEL"] as const) {
      const prior = { ...previous, properties: { ...previous.properties, action } };
      const verdicts = run(contextFor(action, [prior]), [
        { records: [prior], at: 0 },
        { records: [prior], at: hour },
        { records: [prior], at: 24 * hour },
      ]);
      assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "waiting", "waiting"], action);
      assert.match((verdicts[2] as { why: string }).why, /has not changed since before/);
    }
    const changed = running(A, { action: "SAVEPOINT", actionResult: "SUCCESS", jobOutput: `Savepoint completed. Path: ${SP2}`, lastSavePoint: SP2 });
    const verdicts = run(contextFor("SAVEPOINT", [previous]), [{ records: [previous] }, { records: [changed] }]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "done"]);
    assert.equal((verdicts[1] as { record: JobRecord }).record.properties.lastSavePoint, SP2);
  });

  it("takes an unchanged record once the action was seen IN_PROGRESS in between", () => {
    const prior = running(A, { action: "UPDATE", actionResult: "SUCCESS" });
    const verdicts = run(contextFor("UPDATE", [prior]), [
      { records: [running(A, { action: "UPDATE", actionResult: "IN_PROGRESS" })] },
      { records: [prior] },
    ]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "done"]);
  });

  it("a read-only action (LIST_SAVEPOINT) finishes when its operation has, the list text unchanged", () => {
    const listed = running(A, { action: "LIST_SAVEPOINT", actionResult: "SUCCESS", jobOutput: SP1 });
    assert.equal(run(contextFor("LIST_SAVEPOINT", [listed]), [{ records: [listed], operation: "pending" }])[0]!.kind, "waiting");
    assert.equal(run(contextFor("LIST_SAVEPOINT", [listed]), [{ records: [listed], operation: "succeeded" }])[0]!.kind, "done");
  });

  for (const order of ["oldest first", "newest first"] as const) {
    const arrange = (records: JobRecord[]) => (order === "newest first" ? [...records].reverse() : records);

    it(`NEW with an older failed record of the same name: only the new record counts (${order})`, () => {
      const failed = record(A, { action: "NEW", actionResult: "FAILED", status: "JOB_LAUNCH_FAILED", jobOutput: "Job execution failed. \nFailed to download jar" });
      const context = contextFor("NEW", [failed]);
      const verdicts = run(context, [
        { records: arrange([failed]) },
        { records: arrange([failed, record(B, { action: "NEW", actionResult: "IN_PROGRESS" })]) },
        { records: arrange([failed, running(B)]) },
      ]);
      assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "waiting", "done"]);
      const done = verdicts[2] as Extract<Verdict, { kind: "done" }>;
      assert.equal(done.result, "SUCCESS");
      assert.equal(done.record?.properties.runId, B);
    });

    it(`STOP acts on and watches the running record, not an old stopped one (${order})`, () => {
      const old = record(A, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobOutput: `Savepoint completed. Path: ${SP1}` });
      const live = running(B);
      const before = arrange([old, live]);
      assert.equal(currentRecord(before, "orders")?.properties.runId, B, "the record a status read reports and an action aims at");
      const context = contextFor("STOP", before);
      assert.equal(context.targetKey, B);
      const stopped = running(B, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobOutput: `Savepoint completed. Path: ${SP2}` });
      const verdicts = run(context, [{ records: arrange([old, live]) }, { records: arrange([old, stopped]) }]);
      assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "done"]);
      assert.equal((verdicts[1] as { record: JobRecord }).record.properties.jobOutput, `Savepoint completed. Path: ${SP2}`);
    });
  }

  it("without run ids (2023-06-01-preview), the record that changed is the one the action touched", () => {
    const noRunId = (p: Partial<JobRecord["properties"]>): JobRecord => ({ id: "/jobs/orders", properties: { jobName: "orders", ...p } });
    const old = noRunId({ action: "CANCEL", actionResult: "SUCCESS", status: "CANCELED" });
    const live = noRunId({ action: "NEW", actionResult: "SUCCESS", status: "RUNNING" });
    const context = contextFor("STOP", [old, live], { byRunId: false, targetKey: "/jobs/orders" });
    const verdicts = run(context, [
      { records: [live, old] },
      { records: [noRunId({ action: "STOP", actionResult: "SUCCESS", status: "STOPPED" }), old] },
    ]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "done"]);
  });

  it("a record with no status and no actionResult: waits, then says so instead of waiting out the whole timeout", () => {
    const silent = record(B, { action: "NEW", entryClass: "org.example.SleepJob" });
    const verdicts = run(contextFor("NEW", [], { silentLimitMs: 60_000 }), [
      { records: [silent], at: 0 },
      { records: [silent], at: 30_000 },
      { records: [silent], at: 61_000 },
    ]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "waiting", "silent"]);
    assert.equal((verdicts[2] as { forMs: number }).forMs, 61_000);
  });

  it("DELETE succeeds when the record is gone for two reads in a row, not one", () => {
    const stopped = running(A, { status: "STOPPED", action: "STOP" });
    const context = contextFor("DELETE", [stopped]);
    assert.deepEqual(run(context, [{ records: [] }, { records: [stopped] }, { records: [] }]).map((v) => v.kind), ["waiting", "waiting", "waiting"]);
    const verdicts = run(context, [{ records: [] }, { records: [] }]);
    assert.deepEqual(verdicts.map((v) => v.kind), ["waiting", "done"]);
  });

  it("after an ambiguous POST, acceptance is read from every record of the name", () => {
    const old = record(A, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED" });
    const live = running(B);
    const context = contextFor("CANCEL", [live, old]);
    assert.equal(showsAcceptance(context, [live, old]), false, "nothing changed");
    assert.equal(showsAcceptance(context, [old, running(B, { action: "CANCEL", actionResult: "IN_PROGRESS" })]), true);
    assert.equal(showsAcceptance(contextFor("NEW", [old]), [old]), false);
    assert.equal(showsAcceptance(contextFor("NEW", [old]), [running(B), old]), true);
  });
});
