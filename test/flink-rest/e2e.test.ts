/**
 * The bundled tasks (dist/tasks/<Task>/index.js) with `target: flinkRest`, run the way the agent
 * runs them (inputs and an ApacheFlink service connection in the environment, `##vso` commands
 * out), against a real Flink of the test bed: one pipeline's steps, outputs passed along.
 */
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { type ConnectionEnv, runTask, type TaskRun } from "../harness/agent";
import type { FlinkCluster } from "../../testbed/flink/cluster";
import { flinkVersionsUnderTest, useSharedFlinkCluster } from "../../testbed/flink/mocha";
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

    const flink = useSharedFlinkCluster(version);

    before(async function () {
      assert.ok(fs.existsSync("dist/tasks/FlinkJobSubmit/index.js"), "run npm run build first");
      const jars = flink.jars;
      cluster = flink.cluster;
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
      // The cause first: main()'s own message on the first line, before Flink's wrapping.
      assert.match((failed.resultMessage ?? "").split("\n")[0]!.slice(0, 200), /main\(\) failed: .*--throw-in-main was given/);
      assert.equal(failed.outputs["actionResult"], "FAILED");
    });

    it("a wrong entryClass says so first, with no 200-character jar id in front; a re-run with the right one runs", async () => {
      const wrong = await step("FlinkJobSubmit", { jobName: "wrong-entry", jarFile: "target/orders-1.0.jar", entryClass: "com.example.NoSuchJob" });
      assert.equal(wrong.result, "Failed");
      const first = (wrong.resultMessage ?? "").split("\n")[0]!;
      assert.match(first.slice(0, 160), /entry point class 'com\.example\.NoSuchJob' was not found in the jar/);
      assert.ok(!/[\w-]{100}/.test(first), `a long id in the message: ${first}`);
      const right = await step("FlinkJobSubmit", { jobName: "wrong-entry", jarFile: "target/orders-1.0.jar" });
      assert.equal(right.result, "Succeeded", right.resultMessage);
      const cancel = await step("FlinkJobCancel", { jobName: "wrong-entry" });
      assert.equal(cancel.result, "Succeeded", cancel.resultMessage);
    });

    it("without target, a step with flinkConnection runs on Flink; a mistyped target names the input and the two values", async () => {
      // The YAML omits target; the agent hands the task either nothing or the manifest's default.
      for (const target of [undefined, "hdinsightAks"]) {
        const inferred = await runTask({
          task: "FlinkJobStatus",
          inputs: { ...(target ? { target } : {}), flinkConnection: "flink-conn", waitTimeoutInMinutes: "1" },
          connection: connection(),
          env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
          timeoutMs: 60_000,
        });
        assert.equal(inferred.result, "Succeeded", inferred.resultMessage);
        const jobs = JSON.parse(inferred.outputs["jobs"] ?? "null") as Array<{ jid: string }>;
        const listed = await flinkGet<{ jobs: Array<{ jid: string }> }>(cluster.restUrl, "/jobs/overview");
        assert.deepEqual(new Set(jobs.map((j) => j.jid)), new Set(listed.jobs.map((j) => j.jid)));
        // The summary lists them as Flink does, never an empty HDInsight-shaped table.
        const summary = inferred.summaries[0] ?? "";
        assert.doesNotMatch(summary, /\| — \| — \| — \| — \| — \|/);
        for (const job of listed.jobs) assert.ok(summary.includes(`| \`${job.jid}\` |`), `${job.jid} is not in the summary:\n${summary}`);
      }

      const before = gateway.requests.length;
      const typo = await step("FlinkJobStatus", { target: "flinkrest" }, { connects: false });
      assert.equal(typo.result, "Failed");
      assert.match(typo.resultMessage ?? "", /^Input 'target': "flinkrest" is not a target; use 'flinkRest'.*'hdinsightAks'.*Did you mean 'flinkRest'\?/);
      assert.equal(gateway.requests.length, before, "no call was made");
    });

    it("a long wait tells its progress without System.Debug; the summary links the job in Flink's web UI and lists what Flink shows", async () => {
      const deployed = await runTask({
        task: "FlinkJobDeploy",
        inputs: { flinkConnection: "flink-conn", jobName: "progress", jarFile: "target/orders-1.0.jar", healthCheckSeconds: "35", pollingIntervalInSeconds: "2", waitTimeoutInMinutes: "3" },
        connection: connection(),
        env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
        timeoutMs: 200_000,
      });
      assert.equal(deployed.result, "Succeeded", deployed.resultMessage);
      const jobId = deployed.outputs["jobId"]!;
      // What a reader sees (no debug): the health gate counting down, at most one line per 15 s.
      const waiting = deployed.visibleLog.split("\n").filter((l) => l.startsWith("Waiting for "));
      assert.ok(waiting.length >= 1 && waiting.length <= 4, `progress lines:\n${waiting.join("\n")}`);
      assert.match(waiting[0]!, /^Waiting for the health check \(RUNNING, no restart.*\): job [0-9a-f]{32} RUNNING without a restart for \d+ of 35 s \(\d+ s to go\).*\(\d+ s elapsed, .* left of waitTimeoutInMinutes\)$/);
      assert.ok(!deployed.visibleLog.includes("##[debug]"), "debug lines were shown");

      const summary = deployed.summaries[0] ?? "";
      const base = `${gateway.url}/flink/orders`;
      assert.ok(summary.includes(`(${base}/#/job/running/${jobId}/overview)`), summary);
      assert.match(summary, /\| Deploy decision \| `submitted` \|/);
      const sha = crypto.createHash("sha256").update(fs.readFileSync(`${workspace}/target/orders-1.0.jar`)).digest("hex");
      assert.ok(summary.includes(`| Jar SHA-256 | \`${sha}\` |`), "the jar's digest");
      // The executions table holds what Flink lists for this JobID, under the name Flink shows.
      const listed = (await flinkGet<{ jobs: Array<{ jid: string; name: string; state: string }> }>(cluster.restUrl, "/jobs/overview")).jobs.find((j) => j.jid === jobId)!;
      assert.ok(summary.includes(`| ${listed.name.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`)} | ${listed.state} |`), summary);
      assert.match(summary, /\*\*Timeline\*\*/);
      assert.doesNotMatch(summary, /\| — \| — \| — \| — \| — \|/);

      const cancel = await step("FlinkJobCancel", { jobName: "progress" });
      assert.equal(cancel.result, "Succeeded", cancel.resultMessage);
      assert.ok(cancel.summaries[0]?.includes(`(${base}/#/job/completed/${jobId}/overview)`), cancel.summaries[0]);
    });

    it("connection mistakes name the connection and the fix: a REST path in the URL, https:// to http, the web UI's address", async () => {
      const base = cluster.restUrl.replace(/\/+$/, "");
      const statusWith = (url: string) =>
        runTask({
          task: "FlinkJobStatus",
          inputs: { flinkConnection: "my-flink-conn", waitTimeoutInMinutes: "1" },
          connection: { id: "my-flink-conn", url, scheme: "None", parameters: {}, data: {} },
          env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
          timeoutMs: 60_000,
        });
      const restPath = await statusWith(`${base}/jobs`);
      assert.equal(restPath.result, "Failed");
      assert.match(restPath.resultMessage ?? "", /Service connection 'my-flink-conn'.*ends with '\/jobs', a path of Flink's REST API/);
      assert.ok((restPath.resultMessage ?? "").includes(`Put the JobManager's base URL in the connection: ${base} `), restPath.resultMessage);
      assert.match(restPath.resultMessage ?? "", /not its name/);

      const tls = await statusWith(base.replace(/^http:/, "https:"));
      assert.equal(tls.result, "Failed");
      assert.match(tls.resultMessage ?? "", /Service connection 'my-flink-conn'.*plain HTTP.*the cluster serves http, not https/);
      assert.ok((tls.resultMessage ?? "").includes(`Change the connection's URL to ${base},`), tls.resultMessage);
      assert.ok(tls.durationMs < 30_000, "a wrong scheme is not retried as an outage");

      const ui = await statusWith(`${base}/#/overview`);
      assert.equal(ui.result, "Failed");
      assert.match(ui.resultMessage ?? "", /'my-flink-conn'.*a page of Flink's web UI \(#\/overview\)/);
      assert.ok((ui.resultMessage ?? "").includes(`without '#/overview': ${base}.`), ui.resultMessage);

      // The fix, as the messages give it, works.
      const fixed = await statusWith(base);
      assert.equal(fixed.result, "Succeeded", fixed.resultMessage);
    });

    it("jarFile mistakes fail before any call, for every task that takes jarFile", async () => {
      const before = gateway.requests.length;
      const cases: Array<[string, Record<string, string>, RegExp]> = [
        ["FlinkJobSubmit", { jarFile: "build/*.jar" }, /no file matches "build\/\*\.jar"/],
        ["FlinkJobUpdate", { jarFile: "target*/*.jar" }, /matches 2 files/],
        ["FlinkJobStart", { jarFile: "target/*" }, /target\/\*/],
        ["FlinkJobDeploy", { jarFile: "nothing/here.jar" }, /no file matches/],
      ];
      fs.writeFileSync(`${workspace}/target/notes.txt`, "not a jar");
      try {
        for (const [task, inputs, message] of cases) {
          const run = await step(task, { jobName: "jar-mistakes", ...inputs }, { connects: false });
          assert.equal(run.result, "Failed", task);
          assert.match(run.resultMessage ?? "", /^Input 'jarFile': /, task);
          assert.match(run.resultMessage ?? "", message, task);
        }
      } finally {
        fs.rmSync(`${workspace}/target/notes.txt`);
      }
      assert.equal(gateway.requests.length, before, "no call was made");
    });
  });
}
