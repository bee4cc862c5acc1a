/**
 * The bundled tasks (dist/tasks/<Task>/index.js) with `target: flinkRest`, run the way the agent
 * runs them (inputs and an ApacheFlink service connection in the environment, `##vso` commands
 * out), against a real Flink of the test bed: one pipeline's steps, outputs passed along.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { type ConnectionEnv, runTask, type TaskRun } from "../harness/agent";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { flinkVersionsUnderTest } from "../../testbed/flink/mocha";
import { flinkGet, forward, startServer, workspaceWith } from "./helpers";

const versions = flinkVersionsUnderTest();
const PASSWORD = "gateway-Pa55word-that-must-never-be-logged";

for (const version of versions) {
  describe(`Bundled tasks with target flinkRest on Flink ${version} (agent environment)`, function () {
    this.timeout(240_000);
    let cluster: FlinkCluster;
    let workspace: string;
    let gateway: Awaited<ReturnType<typeof startServer>>;
    const jobName = `pipeline-${version.replace(/\./g, "-")}`;

    before(async function () {
      this.timeout(600_000);
      assert.ok(fs.existsSync("dist/tasks/FlinkJobSubmit/index.js"), "run npm run build first");
      const jars = await buildTestJobJars(version);
      cluster = await startFlinkCluster({ version });
      workspace = workspaceWith({ "target/orders-1.0.jar": jars.v1, "target-v2/orders-2.0.jar": jars.v2 });
      // A gateway that asks for a user name and password, as NGINX in front of Flink does, under a path prefix.
      gateway = await startServer((req, res) => {
        if (req.headers.authorization !== `Basic ${Buffer.from(`ci:${PASSWORD}`).toString("base64")}`) {
          res.writeHead(401, { "WWW-Authenticate": 'Basic realm="flink"' });
          res.end();
          return;
        }
        if (!req.url?.startsWith("/flink/orders/")) {
          res.writeHead(404);
          res.end();
          return;
        }
        forward(`${cluster.restUrl}${req.url.slice("/flink/orders".length)}`, req, res);
      });
    });

    after(async () => {
      await gateway?.close();
      await cluster?.stop();
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    });

    const connection = (): ConnectionEnv => ({ id: "flink-conn", url: `${gateway.url}/flink/orders/`, scheme: "UsernamePassword", parameters: { username: "ci", password: PASSWORD }, data: {} });

    async function step(task: string, inputs: Record<string, string>, { connects = true } = {}): Promise<TaskRun> {
      const run = await runTask({
        task,
        inputs: { target: "flinkRest", flinkConnection: "flink-conn", jobName, pollingIntervalInSeconds: "1", waitTimeoutInMinutes: "3", ...inputs },
        connection: connection(),
        variables: { "System.Debug": "true" },
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 200_000,
      });
      const shown = [run.visibleLog, ...run.commands.filter((c) => c.command !== "task.setsecret").map((c) => `${JSON.stringify(c.properties)} ${c.message}`)].join("\n");
      assert.ok(!shown.includes(PASSWORD), `${task}: the connection's password appears in the log`);
      if (connects) assert.ok(run.secrets.includes(PASSWORD), `${task}: the password was not registered as a secret`);
      return run;
    }

    it("Submit → Savepoint → Update → Stop → Start (from $(stop.savepointPath)) → Status → Cancel → Delete", async () => {
      const submit = await step("FlinkJobSubmit", { jarFile: "target/*.jar", args: "--records-per-second 50" });
      assert.equal(submit.result, "Succeeded", `${submit.resultMessage}\n${submit.stdout}`);
      assert.equal(submit.outputs["actionResult"], "SUCCESS");
      assert.equal(submit.outputs["jobStatus"], "RUNNING");
      assert.equal(submit.outputs["runId"], "");
      assert.match(submit.outputs["jarId"] ?? "", /orders-1-0\.jar$/);
      const first = submit.outputs["jobId"]!;
      assert.equal((await flinkGet<{ state: string }>(cluster.restUrl, `/jobs/${first}`)).state, "RUNNING");

      const savepoint = await step("FlinkSavepoint", { operation: "trigger" });
      assert.equal(savepoint.result, "Succeeded", savepoint.resultMessage);
      assert.ok(fs.existsSync(`${new URL(savepoint.outputs["savepointPath"]!).pathname}/_metadata`));

      const update = await step("FlinkJobUpdate", { upgradeMode: "savepoint", jarFile: "target-v2/*.jar" });
      assert.equal(update.result, "Succeeded", update.resultMessage);
      const second = update.outputs["jobId"]!;
      assert.notEqual(second, first);
      assert.match(update.outputs["jarId"] ?? "", /orders-2-0\.jar$/);
      const restored = await flinkGet<{ latest: { restored: { external_path: string } | null } }>(cluster.restUrl, `/jobs/${second}/checkpoints`);
      assert.equal(restored.latest.restored?.external_path, update.outputs["lastSavepoint"]);
      assert.equal(update.outputs["savepointPath"], undefined, "savepointPath is Stop's and Savepoint's output, not Update's");

      const stop = await step("FlinkJobStop", {});
      assert.equal(stop.result, "Succeeded", stop.resultMessage);
      assert.equal(stop.outputs["jobStatus"], "FINISHED");
      const stopSavepoint = stop.outputs["savepointPath"]!;

      const start = await step("FlinkJobStart", { startMode: "savepoint", savepointName: stopSavepoint });
      assert.equal(start.result, "Succeeded", start.resultMessage);
      const third = start.outputs["jobId"]!;
      const startRestored = await flinkGet<{ latest: { restored: { external_path: string } | null } }>(cluster.restUrl, `/jobs/${third}/checkpoints`);
      assert.equal(startRestored.latest.restored?.external_path, stopSavepoint);

      const status = await step("FlinkJobStatus", { waitForStatus: "RUNNING" });
      assert.equal(status.result, "Succeeded", status.resultMessage);
      assert.equal(status.outputs["jobId"], third);
      assert.equal(status.outputs["jobStatus"], "RUNNING");
      assert.equal(Number(status.outputs["jobCount"]), JSON.parse(status.outputs["jobs"]!).length);

      const cancel = await step("FlinkJobCancel", {});
      assert.equal(cancel.result, "Succeeded", cancel.resultMessage);
      assert.equal(cancel.outputs["jobStatus"], "CANCELED");

      const del = await step("FlinkJobDelete", {});
      assert.equal(del.result, "Succeeded", del.resultMessage);
      const jars = await flinkGet<{ files: Array<{ name: string }> }>(cluster.restUrl, "/jars");
      assert.deepEqual(jars.files, []);
    });

    it("a jar whose main() throws fails the step with Flink's cause; a bad input fails before any call", async () => {
      const before = gateway.requests.length;
      const bad = await step("FlinkJobSubmit", { jobName: "bad-input", jarFile: "target/*.jar", parallelism: "zero" }, { connects: false });
      assert.equal(bad.result, "Failed");
      assert.match(bad.resultMessage ?? "", /Input 'parallelism'/);
      assert.equal(gateway.requests.length, before, "no call was made");

      const failed = await step("FlinkJobSubmit", { jobName: "throws", jarFile: "target/orders-1.0.jar", args: "--throw-in-main" });
      assert.equal(failed.result, "Failed");
      assert.match(failed.resultMessage ?? "", /NEW of job 'throws' ended FAILED.*--throw-in-main was given/s);
      assert.equal(failed.outputs["actionResult"], "FAILED");
    });
  });
}
