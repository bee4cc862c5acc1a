import assert from "node:assert/strict";
import { runTask, type TaskRun } from "../harness/agent";
import { clusterInputs, connectionFor, type EmulatorRunOptions, runOnEmulator, SCHEMES, type Scheme } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";
import { assertNoCredentialsInLog } from "../harness/log-hygiene";

describe("FlinkJobSubmit end to end (bundled task, agent environment, emulator over HTTPS)", function () {
  this.timeout(120_000);
  const fixture = useEmulator();

  function submit(scheme: Scheme, inputs: Record<string, string> = {}, options: EmulatorRunOptions = {}): Promise<TaskRun> {
    return runOnEmulator(fixture.emulator,
      "FlinkJobSubmit",
      { jobJarDirectory: fixture.emulator.knownJar.jobJarDirectory, jarName: fixture.emulator.knownJar.jarName, entryClass: fixture.emulator.knownJar.entryClass, ...inputs },
      { ...options, scheme },
    );
  }

  for (const scheme of SCHEMES) {
    it(`submits a job with a ${scheme} connection and sets the outputs`, async () => {
      const jobName = `orders-${scheme.toLowerCase()}`;
      const run = await submit(scheme, { jobName, parallelism: "2", savepointDirectory: "abfss://state@acct.dfs.core.windows.net/sp" }, { debug: true });
      assert.equal(run.result, "Succeeded", run.resultMessage ?? run.stdout);
      assert.equal(run.outputs["actionResult"], "SUCCESS");
      assert.equal(run.outputs["jobStatus"], "RUNNING");
      assert.equal(run.outputs["jobName"], jobName);
      assert.match(run.outputs["jobId"] ?? "", /^[0-9a-f]{32}$/);
      assert.match(run.outputs["runId"] ?? "", /^job-[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(run.outputs["jobOutput"], "Flink internal job status : RUNNING");
      const record = fixture.emulator.jobs.list().find((r) => r.properties.jobName === jobName);
      assert.equal(record?.properties.runId, run.outputs["runId"]);
      assertNoCredentialsInLog(run, fixture.emulator);
    });
  }

  it("posts the body the service expects: parallelism as the string \"2\", dotted savepoint.directory", async () => {
    const run = await submit("spnKey", {
      jobName: "body-shape",
      args: "--window 5m",
      savepointDirectory: "abfss://state@acct.dfs.core.windows.net/sp",
      flinkConfiguration: "taskmanager.numberOfTaskSlots=4",
    });
    assert.equal(run.result, "Succeeded", run.resultMessage);
    const posts = fixture.emulator.log.entries({ route: "runJob", method: "POST" });
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0]!.body, {
      properties: {
        jobType: "FlinkJob",
        jobName: "body-shape",
        action: "NEW",
        jobJarDirectory: fixture.emulator.knownJar.jobJarDirectory,
        jarName: fixture.emulator.knownJar.jarName,
        entryClass: fixture.emulator.knownJar.entryClass,
        args: "--window 5m",
        flinkConfiguration: { "taskmanager.numberOfTaskSlots": "4", parallelism: "2", "savepoint.directory": "abfss://state@acct.dfs.core.windows.net/sp" },
      },
    });
    assert.match(posts[0]!.headers["user-agent"] ?? "", /^flink-jobs-azure-pipelines FlinkJobSubmit\/1\.\d+\.\d+ node\/\d+/);
    assert.match(posts[0]!.headers["x-ms-client-request-id"] ?? "", /^[0-9a-f-]{36}$/);
  });

  it("writes a run summary with the job's state", async () => {
    const run = await submit("spnKey", { jobName: "summary-job" });
    assert.equal(run.summaries.length, 1);
    const summary = run.summaries[0]!;
    assert.match(summary, /### FlinkJobSubmit: summary-job/);
    assert.match(summary, /\| Result \| SUCCESS \|/);
    assert.match(summary, /\| Job status \| RUNNING \|/);
    assert.ok(summary.includes(run.outputs["jobId"]!));
    assert.match(summary, /portal\.azure\.com/);
  });

  it("fails with the cluster's message when the jar cannot be downloaded", async () => {
    const run = await submit("spnKey", { jobName: "missing-jar", jarName: "NotThere-1.0.jar" });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /NEW of job 'missing-jar' ended FAILED with status JOB_LAUNCH_FAILED/);
    assert.match(run.resultMessage ?? "", /Job execution failed\. \nFailed to download jar/);
    assert.match(run.resultMessage ?? "", /Check jobJarDirectory and jarName/);
    const post = fixture.emulator.log.entries({ route: "runJob", method: "POST" })[0]!;
    assert.ok(run.resultMessage!.includes(`[runJob request id ${post.requestId}]`), "the failure names the runJob request id");
    assert.equal(run.outputs["actionResult"], "FAILED");
    assert.equal(run.outputs["jobStatus"], "JOB_LAUNCH_FAILED");
    assert.equal(run.outputs["jobOutput"], "Job execution failed. \nFailed to download jar");
  });

  it("is not fooled by the stale window: a second NEW of the same name waits for its own record", async () => {
    const first = await submit("spnKey", { jobName: "twice", jarName: "NotThere-1.0.jar" });
    assert.equal(first.result, "Failed");
    const second = await submit("spnKey", { jobName: "twice" });
    // The first record still says FAILED; only the new record's SUCCESS is this action's result.
    assert.equal(second.result, "Succeeded", second.resultMessage);
    assert.equal(second.outputs["jobStatus"], "RUNNING");
    assert.notEqual(second.outputs["runId"], first.outputs["runId"]);
    assert.equal(fixture.emulator.jobs.list().filter((r) => r.properties.jobName === "twice").length, 2);
  });

  it("refuses to submit a job whose name is already RUNNING, before posting", async () => {
    const first = await submit("spnKey", { jobName: "running-once" });
    assert.equal(first.result, "Succeeded");
    fixture.emulator.log.clear();
    const second = await submit("spnKey", { jobName: "running-once" });
    assert.equal(second.result, "Failed");
    assert.match(second.resultMessage ?? "", /Job 'running-once' is already RUNNING \(runId job-[0-9a-f-]+, jobId [0-9a-f]{32}\); submitting it again would start a second job/);
    assert.equal(fixture.emulator.log.entries({ route: "runJob" }).length, 0);
  });

  it("times out with a message that the action may still complete, and what was last seen", async () => {
    fixture.emulator.faults.add({ kind: "hangAction", action: "NEW", jobName: "slow-job" });
    const run = await submit("spnKey", { jobName: "slow-job", waitTimeoutInMinutes: "1", pollingIntervalInSeconds: "5" }, { timeoutMs: 120_000 });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /Timed out after 1 minute waiting for NEW on job 'slow-job'\. The action may still complete on the cluster; last seen: action NEW, actionResult IN_PROGRESS/);
  });

  it("absorbs 429 with Retry-After and 5xx on reads", async () => {
    fixture.emulator.faults.add({ kind: "status", route: "jobs", status: 429, retryAfterSec: 1, times: 2 });
    fixture.emulator.faults.add({ kind: "status", route: "operation", status: 503, times: 1 });
    fixture.emulator.faults.add({ kind: "status", route: "jobs", status: 500, times: 1 });
    const run = await submit("spnKey", { jobName: "throttled" });
    assert.equal(run.result, "Succeeded", run.resultMessage);
    const throttled = fixture.emulator.log.entries({ route: "jobs", status: 429 });
    assert.equal(throttled.length, 2);
    const after = fixture.emulator.log.entries({ route: "jobs" }).find((e) => e.seq > throttled[0]!.seq);
    assert.ok(after && after.wallTime - throttled[0]!.wallTime >= 1000, "retried before Retry-After elapsed");
    assert.equal(fixture.emulator.log.entries({ route: "runJob", method: "POST" }).length, 1);
  });

  it("fails on a bad input before any network call, naming the input", async () => {
    const run = await submit("spnKey", { jobName: "Orders" });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /^Input 'jobName': "Orders" must be lower case/);
    assert.equal(fixture.emulator.log.entries().length, 0);
  });

  it("says the service connection could not get a token, with Entra's code", async () => {
    const agent = connectionFor(fixture.emulator, "spnKey");
    agent.connection!.parameters["serviceprincipalkey"] = "wrong-secret-value-0123456789";
    const run = await runTask({ task: "FlinkJobSubmit", ...agent, inputs: { ...clusterInputs(fixture.emulator), jobName: "x", jobJarDirectory: fixture.emulator.knownJar.jobJarDirectory, jarName: "a.jar", entryClass: "a.B" } });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /Could not get an access token.*AADSTS7000215/);
  });
});
