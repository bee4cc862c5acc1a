/**
 * REST outages of 10-60 s in the middle of each wait, as a JobManager restart or an ingress reload
 * causes: the bundled tasks run the way the agent runs them, through a TCP forwarder in front of a
 * real Flink that the test takes down and brings back. A wait rides through the outage and judges
 * from what Flink shows once it answers; an outage longer than the budget fails saying how long
 * Flink was out of reach, and the re-run of the same step ends right.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { runTask, type TaskRun } from "../harness/agent";
import { startTcpOutageProxy, type TcpOutageProxy } from "../harness/tcp-outage";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { flinkGet, flinkJobState, startServer, workspaceWith } from "./helpers";

const versions = flinkVersionsUnderTest();

interface Overview {
  jobs: Array<{ jid: string; name: string; state: string }>;
}

for (const version of versions) {
  describe(`REST outages during the waits on Flink ${version} (bundled tasks)`, function () {
    this.timeout(300_000);
    let cluster: FlinkCluster;
    let workspace: string;
    let proxy: TcpOutageProxy;

    before(async function () {
      this.timeout(600_000);
      assert.ok(fs.existsSync("dist/tasks/FlinkJobSubmit/index.js"), "run npm run build first");
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version, checkpointIntervalMs: 1000 });
      workspace = workspaceWith({ "target/orders-1.0.jar": jars.v1 });
      proxy = await startTcpOutageProxy(cluster.restUrl);
    });

    after(async () => {
      await proxy?.close();
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    function step(task: string, jobName: string, inputs: Record<string, string>): Promise<TaskRun> {
      return runTask({
        task,
        inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName, pollingIntervalInSeconds: "2", waitTimeoutInMinutes: "3", ...inputs },
        connection: { id: "flink-conn", url: proxy.url, scheme: "None", parameters: {}, data: {} },
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 280_000,
      });
    }
    // Flink's state now (GET /jobs/:id may serve a graph cached for web.refresh-interval).
    const state = (jobId: string) => flinkJobState(cluster.restUrl, jobId);
    const jobsNamed = async (name: string) => (await flinkGet<Overview>(cluster.restUrl, "/jobs/overview")).jobs.filter((j) => j.name === name);
    // The waits for a job's start and end read the job overview (current, unlike GET /jobs/:id); the
    // step reads it once before it acts, so the outage strikes the wait's first read.
    const overview = /^GET \/jobs\/overview$/;

    it("Submit's wait for RUNNING rides through a 20 s outage; one job runs", async () => {
      const outage = proxy.outageOn(overview, 20_000, 1);
      const submit = await step("FlinkJobSubmit", "outage-submit", { jarFile: "target/*.jar" });
      const { startedAt, endedAt } = await outage;
      assert.ok(endedAt - startedAt >= 19_000);
      assert.equal(submit.result, "Succeeded", `${submit.resultMessage}\n${submit.visibleLog}`);
      assert.equal(submit.outputs["jobStatus"], "RUNNING");
      assert.match(submit.visibleLog, /Flink was out of reach for \d+ s/);
      const jobs = await jobsNamed("outage-submit");
      assert.deepEqual(
        jobs.map((j) => [j.jid, j.state]),
        [[submit.outputs["jobId"], "RUNNING"]],
      );
    });

    it("Stop's wait for the savepoint rides through a 30 s outage: the savepoint written meanwhile is the result", async () => {
      const jobId = (await jobsNamed("outage-submit"))[0]!.jid;
      const outage = proxy.outageOn(/^GET \/jobs\/[0-9a-f]{32}\/savepoints\/[0-9a-f]+$/, 30_000);
      const stop = await step("FlinkJobStop", "outage-submit", {});
      await outage;
      assert.equal(stop.result, "Succeeded", `${stop.resultMessage}\n${stop.visibleLog}`);
      assert.equal(stop.outputs["jobStatus"], "FINISHED");
      const savepoint = stop.outputs["savepointPath"]!;
      assert.ok(fs.existsSync(`${new URL(savepoint).pathname}/_metadata`), savepoint);
      assert.equal(await state(jobId), "FINISHED");
      const listed = await flinkGet<{ latest: { savepoint: { external_path: string } | null } }>(cluster.restUrl, `/jobs/${jobId}/checkpoints`);
      assert.equal(listed.latest.savepoint?.external_path, savepoint);
    });

    it("Status waitForStatus FAILED rides through a 15 s outage", async () => {
      const submit = await step("FlinkJobSubmit", "outage-status", { jarFile: "target/*.jar", args: "--fail-after-seconds 25", flinkConfiguration: "restart-strategy.type=none" });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      // The first read finds the job; the second is the wait's.
      const outage = proxy.outageOn(/^GET \/jobs\/overview$/, 15_000, 1);
      const status = await step("FlinkJobStatus", "outage-status", { waitForStatus: "FAILED" });
      await outage;
      assert.equal(status.result, "Succeeded", `${status.resultMessage}\n${status.visibleLog}`);
      assert.equal(status.outputs["jobStatus"], "FAILED");
      assert.equal(await state(submit.outputs["jobId"]!), "FAILED");
    });

    it("Cancel's wait rides through a 10 s outage", async () => {
      const submit = await step("FlinkJobSubmit", "outage-cancel", { jarFile: "target/*.jar" });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      const outage = proxy.outageOn(overview, 10_000, 1);
      const cancel = await step("FlinkJobCancel", "outage-cancel", {});
      await outage;
      assert.equal(cancel.result, "Succeeded", `${cancel.resultMessage}\n${cancel.visibleLog}`);
      assert.equal(cancel.outputs["jobStatus"], "CANCELED");
      assert.equal(await state(submit.outputs["jobId"]!), "CANCELED");
    });

    it("a savepoint trigger the JobManager no longer knows (404 after a failover): Stop reads the savepoint from the job's checkpoint statistics", async () => {
      const submit = await step("FlinkJobSubmit", "trigger-forgotten", { jarFile: "target/*.jar" });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      // A new leader answers every read of the old leader's trigger with Flink's 404.
      const forgetful = await startServer((req, res) => {
        if (req.method === "GET" && /^\/jobs\/[0-9a-f]{32}\/savepoints\/[0-9a-f]+$/.test(req.url ?? "")) {
          res.writeHead(404, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ errors: ["org.apache.flink.runtime.rest.handler.RestHandlerException: There is no savepoint operation with triggerId=… for job …"] }));
          return;
        }
        const upstream = http.request(`${cluster.restUrl}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      });
      try {
        const stop = await runTask({
          task: "FlinkJobStop",
          inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName: "trigger-forgotten", pollingIntervalInSeconds: "2", waitTimeoutInMinutes: "3" },
          connection: { id: "flink-conn", url: forgetful.url, scheme: "None", parameters: {}, data: {} },
          env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
          timeoutMs: 280_000,
        });
        assert.equal(stop.result, "Succeeded", `${stop.resultMessage}\n${stop.visibleLog}`);
        assert.ok(forgetful.requests.some((r) => /\/savepoints\/[0-9a-f]+$/.test(r)), "the trigger was never read");
        const jobId = submit.outputs["jobId"]!;
        assert.equal(await state(jobId), "FINISHED");
        const listed = await flinkGet<{ latest: { savepoint: { external_path: string } | null } }>(cluster.restUrl, `/jobs/${jobId}/checkpoints`);
        assert.equal(stop.outputs["savepointPath"], listed.latest.savepoint?.external_path);
        assert.ok(fs.existsSync(`${new URL(stop.outputs["savepointPath"]!).pathname}/_metadata`));
      } finally {
        await forgetful.close();
      }
    });

    it("an outage longer than the budget fails saying how long Flink was out of reach; the re-run ends right", async () => {
      const submit = await step("FlinkJobSubmit", "outage-long", { jarFile: "target/*.jar" });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      const outage = proxy.outageOn(overview, 75_000, 1);
      const cancel = await step("FlinkJobCancel", "outage-long", { waitTimeoutInMinutes: "1" });
      await outage;
      assert.equal(cancel.result, "Failed");
      assert.match(cancel.resultMessage ?? "", /Timed out after 1 minute while waiting for the job to be CANCELED.*Flink out of reach for \d+ s/);
      // Flink cancelled the job all the same; the re-run reads it and succeeds without sending anything twice.
      assert.equal(await state(submit.outputs["jobId"]!), "CANCELED");
      const again = await step("FlinkJobCancel", "outage-long", {});
      assert.equal(again.result, "Succeeded", again.resultMessage);
      assert.equal(again.outputs["jobStatus"], "CANCELED");
      assert.equal(again.outputs["jobId"], submit.outputs["jobId"]);
    });
  });
}
