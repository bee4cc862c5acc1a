/**
 * The HDInsight wait end to end in memory: pre-checks, the POST and its ambiguity, the operation
 * beside the job list, read failures, the deadline. A fake job API scripts each answer, so every
 * case runs in milliseconds.
 */
import assert from "node:assert/strict";
import { runAction, type RunActionOptions } from "../../../src/backends/hdinsight-aks/run-action";
import { AmbiguousRequestError, ArmError, JobStateError, MalformedAnswerError, OperationFailedError, WaitTimeoutError } from "../../../src/errors";
import type { JobAction } from "../../../src/jobs/backend";
import { FakeJobsApi, record, running } from "./fake-jobs-api";

const A = "job-aaa-4aaa-8aaa-aaaaaaaaaaaa";
const B = "job-bbb-4bbb-9bbb-bbbbbbbbbbbb";
const SP1 = "abfs://state@acct.dfs.core.windows.net/sp/savepoint-25e318-111111111111";

const fast: RunActionOptions = { timeoutMs: 2_000, waitForCompletion: true, maxPollIntervalMs: 5, minPollIntervalMs: 1, ambiguityWindowMs: 50, operationHeadStartMs: 0 };
const request = (action: JobAction) => ({ action, jobName: "orders", definition: action === "NEW" ? { jarName: "a.jar" } : {} });
const cancelled = running(A, { action: "CANCEL", actionResult: "SUCCESS", status: "CANCELED", jobOutput: "Flink internal job status : CANCELED" });
const unavailable = () => new ArmError({ status: 503, code: "ServiceUnavailable", message: "try later", requestId: "r503" });

describe("the HDInsight wait, in memory against a fake job API", () => {
  it("keeps waiting through malformed list answers and read outages, then takes the result", async () => {
    const api = new FakeJobsApi([[running(A)], new MalformedAnswerError("HTML page"), unavailable(), [cancelled]]);
    const outcome = await runAction(api, request("CANCEL"), fast);
    assert.equal(outcome.actionResult, "SUCCESS");
    assert.equal(outcome.record?.properties.status, "CANCELED");
    assert.equal(api.posts.length, 1);
  });

  it("a read outage to the deadline ends with the timeout's message: posted, request id, last state", async () => {
    const api = new FakeJobsApi([[running(A)], [running(A, { action: "CANCEL", actionResult: "IN_PROGRESS" })], unavailable()]);
    await assert.rejects(runAction(api, request("CANCEL"), { ...fast, timeoutMs: 300 }), (error: Error) => {
      assert.ok(error instanceof WaitTimeoutError, error.message);
      assert.match(error.message, /Timed out after 0 s waiting for CANCEL on job 'orders'\. The action may still complete on the cluster; last seen: action CANCEL, actionResult IN_PROGRESS/);
      assert.match(error.message, /\[runJob request id req-1\]/);
      assert.equal(error.job?.runId, A, "the timeout carries the job for the outputs");
      return true;
    });
  });

  it("an ambiguous NEW is never posted again blindly: no record appeared, so it stops and says what to check", async () => {
    const api = new FakeJobsApi([[]], [new AmbiguousRequestError("The connection failed during POST", "c")]);
    await assert.rejects(runAction(api, request("NEW"), fast), (error: Error) => {
      assert.ok(error instanceof JobStateError, error.message);
      assert.match(error.message, /NEW was not posted again\. Check with FlinkJobStatus/);
      return true;
    });
    assert.equal(api.posts.length, 1);
  });

  it("an ambiguous NEW whose record appears late is followed, not posted again", async () => {
    const api = new FakeJobsApi([[], [], [], (call) => (call < 6 ? [] : [running(B)])], [new AmbiguousRequestError("dropped", "c")]);
    const outcome = await runAction(api, request("NEW"), { ...fast, ambiguityWindowMs: 1_000 });
    assert.equal(outcome.actionResult, "SUCCESS");
    assert.equal(outcome.record?.properties.runId, B);
    assert.equal(api.posts.length, 1);
  });

  it("the ambiguity window expiring: every record of the name is read again, then the action is posted again", async () => {
    const api: FakeJobsApi = new FakeJobsApi([[running(A)], [running(A)], () => (api.posts.length < 2 ? [running(A)] : [cancelled])], [new AmbiguousRequestError("dropped", "c"), { status: 200 }]);
    const outcome = await runAction(api, request("CANCEL"), fast);
    assert.equal(outcome.actionResult, "SUCCESS");
    assert.equal(api.posts.length, 2);
    const between = api.calls.slice(api.calls.indexOf("post:CANCEL") + 1, api.calls.lastIndexOf("post:CANCEL"));
    assert.ok(between.filter((c) => c === "list").length >= 2, `reads between the posts: ${between.join(", ")}`);
  });

  it("a 409 to the second POST means the first one landed: not an error, the wait goes on", async () => {
    const conflict = new ArmError({ status: 409, code: "Conflict", message: "An action is in progress" });
    const api: FakeJobsApi = new FakeJobsApi([[running(A)], () => (api.posts.length < 2 ? [running(A)] : [cancelled])], [new AmbiguousRequestError("dropped", "c"), conflict]);
    const outcome = await runAction(api, request("CANCEL"), fast);
    assert.equal(outcome.actionResult, "SUCCESS");
    assert.equal(api.posts.length, 2);
  });

  it("an operation that answers 200 with no status for ever does not hide the finished action", async () => {
    const api = new FakeJobsApi([[running(A)], [running(A, { action: "CANCEL", actionResult: "IN_PROGRESS" })], [cancelled]], [
      { status: 202, headers: { "azure-asyncoperation": "https://management.azure.com/op/1" } },
    ]);
    api.operationAnswers = [{ status: 200, data: {} }];
    const outcome = await runAction(api, request("CANCEL"), { ...fast, timeoutMs: 5_000 });
    assert.equal(outcome.actionResult, "SUCCESS");
    assert.ok(api.operationCalls >= 1);
  });

  it("an operation that ends Failed is the service's refusal", async () => {
    const api = new FakeJobsApi([[running(A)]], [{ status: 202, headers: { "azure-asyncoperation": "https://management.azure.com/op/1" } }]);
    api.operationAnswers = [{ status: 200, data: { status: "Failed", error: { code: "Conflict", message: "busy" } } }];
    await assert.rejects(runAction(api, request("CANCEL"), fast), OperationFailedError);
  });

  it("refuses START on a running job and SAVEPOINT on a stopped one before posting, saying what to do", async () => {
    const start = new FakeJobsApi([[running(A)]]);
    await assert.rejects(runAction(start, request("START"), fast), /Job 'orders' is RUNNING .*START was not posted\. It is already running: .*FlinkJobUpdate.*FlinkJobStop/);
    const savepoint = new FakeJobsApi([[running(A, { action: "STOP", status: "STOPPED" })]]);
    await assert.rejects(runAction(savepoint, request("SAVEPOINT"), fast), /Job 'orders' is STOPPED .*SAVEPOINT was not posted\. Only a running job can take a savepoint/);
    assert.equal(start.posts.length + savepoint.posts.length, 0);
  });

  for (const order of ["oldest first", "newest first"] as const) {
    it(`refuses NEW while any record of the name runs (${order}), pointing to stop/cancel and FlinkJobDeploy`, async () => {
      const records = [record(B, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED" }), running(A)];
      const api = new FakeJobsApi([order === "newest first" ? records.reverse() : records]);
      await assert.rejects(runAction(api, request("NEW"), fast), (error: Error) => {
        assert.match(error.message, /is already RUNNING \(runId job-aaa/);
        assert.match(error.message, /FlinkJobStop.*FlinkJobCancel.*FlinkJobDeploy/);
        assert.doesNotMatch(error.message, /Use FlinkJobUpdate to deploy new code/);
        return true;
      });
      assert.equal(api.posts.length, 0);
    });
  }

  it("STOP names the running record by runId, whatever the list order", async () => {
    const old = record(B, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobOutput: `Savepoint completed. Path: ${SP1}` });
    const stopped = running(A, { action: "STOP", actionResult: "SUCCESS", status: "STOPPED", jobOutput: "Savepoint completed. Path: abfs://s@a.dfs.core.windows.net/sp/savepoint-25e318-333333333333" });
    const api = new FakeJobsApi([[running(A), old], [stopped, old]]);
    const outcome = await runAction(api, request("STOP"), fast);
    assert.equal(api.posts[0]!.properties.runId, A);
    assert.equal(outcome.record?.properties.runId, A);
  });
});
