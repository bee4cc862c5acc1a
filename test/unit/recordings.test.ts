/**
 * The real service's recorded bytes, replayed to the client (the flow, the real input checks,
 * ARM client, operation poller and wait) with nock: proof that the client works on answers
 * nobody here wrote. Sources: test/fixtures/recordings/README.md.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import nock from "nock";
import { parse as parseYaml } from "yaml";
import { ArmClient } from "../../src/azure/arm-client";
import { HdInsightBackend } from "../../src/backends/hdinsight-aks";
import type { ApiVersion } from "../../src/backends/hdinsight-aks/actions";
import { validateHdInsightInputs } from "../../src/backends/hdinsight-aks/inputs";
import { FlinkJobsApi } from "../../src/backends/hdinsight-aks/jobs-api";
import type { BackendModule } from "../../src/jobs/backend";
import type { PipelineHost } from "../../src/pipeline/host";
import { executeTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

const ARM = "https://management.azure.com";
const dir = path.join(__dirname, "..", "fixtures", "recordings");

interface Interaction {
  request: { method: string; uri: string; body?: string };
  response: { status: number; headers: Record<string, string>; body: string };
}
const powershell = JSON.parse(fs.readFileSync(path.join(dir, "powershell-cluster-job.json"), "utf8")) as { interactions: Interaction[] };
const cli = parseYaml(fs.readFileSync(path.join(dir, "cli-test_flink_job.yaml"), "utf8")) as {
  interactions: Array<{ request: { uri: string }; response: { body: { string: string }; status: { code: number } } }>;
};

function host(inputs: Record<string, string>): PipelineHost & { outputs: Record<string, string>; log: string[] } {
  const outputs: Record<string, string> = {};
  const log: string[] = [];
  return {
    outputs,
    log,
    userAgent: "replay",
    logger: { info: (m) => void log.push(m), warning: (m) => void log.push(`WARNING ${m}`), debug: () => {} },
    input: (name) => inputs[name],
    serviceConnection: () => {
      throw new Error("replay: the backend is built by the test");
    },
    endpoint: () => {
      throw new Error("replay: the backend is built by the test");
    },
    workingDirectory: () => process.cwd(),
    network: () => ({}),
    setSecret: () => {},
    setOutput: (name, value) => void (outputs[name] = value),
    uploadSummary: () => {},
  };
}

/** The HDInsight backend on a real ARM client (a fixed token: identity is not what is replayed). */
function replayedBackend(cluster: { subscriptionId: string; resourceGroupName: string; clusterPoolName: string; clusterName: string }, apiVersion: ApiVersion) {
  const credential = { getToken: async () => ({ token: "replay-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const client = new ArmClient({ baseUrl: ARM, credential, scope: `${ARM}/.default`, userAgent: "replay" });
  const backend = new HdInsightBackend(new FlinkJobsApi(client, cluster, apiVersion), () => {}, { minPollIntervalMs: 10 });
  return (): BackendModule<unknown> => ({ target: "hdinsightAks", validate: validateHdInsightInputs, connect: () => backend }) as BackendModule<unknown>;
}

describe("the real service's recordings, replayed", () => {
  afterEach(() => nock.cleanAll());

  it("FlinkJobSubmit on the PowerShell recording of a NEW: the recorded body, the 3.2 KB operation URL used verbatim, the RUNNING record's outputs", async () => {
    const [post, operation, list] = powershell.interactions as [Interaction, Interaction, Interaction];
    const clusterPath = new URL(post.request.uri).pathname.replace(/\/runJob$/, "");
    let posted: unknown;
    const operationUrls: string[] = [];
    // Before the NEW the job did not exist (the recording starts with it): the list is empty until then.
    nock(ARM)
      .persist()
      .get((uri) => uri.startsWith(`${clusterPath}/jobs?`))
      .reply(() => (posted ? [list.response.status, list.response.body, list.response.headers] : [200, '{"value":[]}', { "Content-Type": "application/json" }]));
    nock(ARM)
      .post((uri) => uri.startsWith(`${clusterPath}/runJob?`))
      .reply(function (_uri, body) {
        posted = body;
        return [post.response.status, post.response.body, post.response.headers];
      });
    nock(ARM)
      .persist()
      .get((uri) => uri.startsWith("/providers/Microsoft.HDInsight/locations/WESTUS2/operationStatuses/"))
      .reply(function () {
        operationUrls.push(`${ARM}${this.req.path}`);
        return [operation.response.status, operation.response.body, operation.response.headers];
      });

    const [, sub, , rg, , , , pool, , cluster] = clusterPath.split("/").slice(1);
    const h = host({
      jobName: "job1",
      resourceGroupName: rg!,
      clusterPoolName: pool!,
      clusterName: cluster!,
      jobJarDirectory: "abfs://flinkdemo125dfsuoi@flinkdemo125stuoi.dfs.core.windows.net/jars",
      jarName: "FlinkJobDemo-1.0-SNAPSHOT.jar",
      entryClass: "org.example.SleepJob",
      parallelism: "1",
    });
    const outputs = await executeTask(TASKS.FlinkJobSubmit, h, undefined, replayedBackend({ subscriptionId: sub!, resourceGroupName: rg!, clusterPoolName: pool!, clusterName: cluster! }, "2024-05-01-preview"));

    assert.deepEqual(posted, JSON.parse(post.request.body!), "the body PowerShell sent, field for field");
    assert.ok(operationUrls.length >= 1);
    assert.equal(operationUrls[0], operation.request.uri, "the operation URL as handed back, byte for byte");
    assert.ok(operation.request.uri.length > 3000);
    assert.deepEqual(outputs, {
      jobName: "job1",
      runId: "job-c5d-4b48-abba-5ee598dbd653",
      jobId: "25e318907f786a2c6aee392df6580035",
      jobStatus: "RUNNING",
      jobOutput: "Flink internal job status : RUNNING",
      actionResult: "SUCCESS",
    });
  });

  describe("FlinkJobStatus on the CLI's recorded list (two records named 'test', one with no status and no result)", () => {
    const recorded = cli.interactions[0]!;
    const clusterPath = new URL(recorded.request.uri).pathname.replace(/\/jobs$/, "");
    const [, sub, , rg, , , , pool, , cluster] = clusterPath.split("/").slice(1);
    const inputs = { resourceGroupName: rg!, clusterPoolName: pool!, clusterName: cluster!, apiVersion: "2023-11-01-preview" };
    const replay = () =>
      nock(ARM)
        .persist()
        .get((uri) => uri.startsWith(`${clusterPath}/jobs?`))
        .reply(recorded.response.status.code, recorded.response.body.string, { "Content-Type": "application/json; charset=utf-8" });
    const backend = () => replayedBackend({ subscriptionId: sub!, resourceGroupName: rg!, clusterPoolName: pool!, clusterName: cluster! }, "2023-11-01-preview");

    it("every job: all three records, the one without status or result included", async () => {
      replay();
      const outputs = await executeTask(TASKS.FlinkJobStatus, host(inputs), undefined, backend());
      assert.equal(outputs.jobCount, "3");
      const jobs = JSON.parse(outputs.jobs!) as Array<Record<string, unknown>>;
      assert.deepEqual(jobs.map((j) => j["runId"]), ["job-9fe-4b53-bdd3-af47318a4507", "job-d30-488a-91fd-4093b8cc0430", "testname"]);
      assert.equal(jobs[0]!["status"], undefined);
    });

    it("job 'test': both records read, the failed launch reported with the cluster's text, and the choice said", async () => {
      replay();
      const h = host({ ...inputs, jobName: "test" });
      const outputs = await executeTask(TASKS.FlinkJobStatus, h, undefined, backend());
      assert.equal(outputs.jobCount, "2");
      assert.equal(outputs.jobStatus, "JOB_LAUNCH_FAILED");
      assert.equal(outputs.actionResult, "FAILED");
      assert.equal(outputs.jobOutput, "Job execution failed. \nFailed to download jar");
      assert.match(h.log.join("\n"), /lists 2 records named 'test' \(runIds job-9fe-4b53-bdd3-af47318a4507, job-d30-488a-91fd-4093b8cc0430\)/);
    });
  });
});
