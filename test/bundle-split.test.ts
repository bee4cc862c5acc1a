/**
 * Each task ships a small entry and one file per backend (scripts/build.ts): a run parses only the
 * code of the backend its `target` names. Checked on the build's own record of what went where
 * (esbuild's metafile), and by running real bundles from a copy of the task folder with the other
 * backend's files deleted: the Flink path on a real Flink without the ARM client, @azure/identity
 * and the storage SDK; the HDInsight path on the emulator without the Flink client.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Metafile } from "esbuild";
import { startEmulator, type Emulator } from "../emulator/index";
import { agentEnvironment, parseRun, type RunTaskOptions } from "../pipeline-runner/agent-process";
import { flinkRestConnection } from "../pipeline-runner/connection";
import { BACKEND_FILES, bundleTask, filesLoadedAtStart, HANDLER_FILE, sourcesOf, taskFolders } from "../scripts/build";
import { type FlinkCluster, startFlinkCluster } from "../testbed/flink/cluster";
import { flinkVersionsUnderTest } from "../testbed/flink/mocha";
import { clusterInputs, connectionFor } from "./harness/emulator-connections";

/** Code only the HDInsight on AKS path (and Deploy's upload) may load; the storage registries and the savepoint store's loader are light by design. */
const AZURE_ONLY = /^(@azure\/(identity|msal-node|msal-common|storage-blob|storage-common)|src\/azure\/(arm-client|credentials|jar-upload)\.ts|src\/backends\/hdinsight-aks\/(?!(jar|savepoint)-storage\.ts|savepoint-store-loader\.ts))/;
/** Code only the Flink REST path may load. */
const FLINK_ONLY = /^src\/backends\/flink-rest\//;

const built = new Map<string, { dir: string; meta: Metafile }>();
const root = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-split-"));

/** A copy of a built task folder without every file that holds code matching `banned`. */
function strippedCopy(task: string, banned: RegExp): { dir: string; removed: string[] } {
  const { dir, meta } = built.get(task)!;
  const copy = fs.mkdtempSync(path.join(root, `${task}-`));
  fs.cpSync(dir, copy, { recursive: true });
  const removed = fs.readdirSync(copy).filter((file) => sourcesOf(meta, file).some((source) => banned.test(source)));
  for (const file of removed) fs.rmSync(path.join(copy, file));
  return { dir: copy, removed };
}

/** Runs a task folder's handler the way the agent does; the step's result and output. */
async function runFolder(dir: string, options: RunTaskOptions): Promise<ReturnType<typeof parseRun> & { stderr: string }> {
  const temp = fs.mkdtempSync(path.join(root, "agent-"));
  const child = spawn(process.execPath, [path.join(dir, HANDLER_FILE)], { env: agentEnvironment(options, temp), cwd: temp, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  await new Promise((resolve) => child.on("close", resolve));
  return { ...parseRun(stdout, stderr), stderr };
}

describe("per-backend bundles", function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(300_000);
    for (const task of taskFolders()) {
      const dir = path.join(root, "built", task);
      built.set(task, { dir, meta: await bundleTask(task, dir) });
    }
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("every task's Flink path loads no ARM client, @azure/identity, MSAL or storage SDK at start, and its HDInsight path no Flink client", () => {
    for (const [task, { meta }] of built) {
      const flinkStart = filesLoadedAtStart(meta, "flinkRest");
      assert.ok(flinkStart.includes(BACKEND_FILES.flinkRest) && !flinkStart.includes(BACKEND_FILES.hdinsightAks), `${task}: ${flinkStart.join(", ")}`);
      const flinkSources = flinkStart.flatMap((file) => sourcesOf(meta, file));
      assert.deepEqual([...new Set(flinkSources.filter((s) => AZURE_ONLY.test(s)))], [], `${task}: the Flink path loads Azure code`);
      const hdinsightSources = filesLoadedAtStart(meta, "hdinsightAks").flatMap((file) => sourcesOf(meta, file));
      assert.deepEqual([...new Set(hdinsightSources.filter((s) => FLINK_ONLY.test(s)))], [], `${task}: the HDInsight path loads Flink REST code`);
      assert.ok(hdinsightSources.some((s) => s.startsWith("@azure/identity")), `${task}: the HDInsight path should load @azure/identity at start`);
    }
  });

  it("FlinkJobDeploy's storage SDK is in files of their own, loaded by neither path at start", () => {
    const { meta } = built.get("FlinkJobDeploy")!;
    const atStart = new Set([...filesLoadedAtStart(meta, "flinkRest"), ...filesLoadedAtStart(meta, "hdinsightAks")]);
    const storageFiles = Object.keys(meta.outputs)
      .map((file) => path.basename(file))
      .filter((file) => sourcesOf(meta, file).some((s) => s.startsWith("@azure/storage-blob")));
    assert.ok(storageFiles.length > 0, "FlinkJobDeploy ships the storage SDK");
    assert.deepEqual(storageFiles.filter((file) => atStart.has(file)), []);
  });

  for (const version of flinkVersionsUnderTest().slice(0, 1)) {
    describe(`the Flink path with the Azure files deleted, on Flink ${version}`, () => {
      let cluster: FlinkCluster;
      before(async function () {
        this.timeout(600_000);
        cluster = await startFlinkCluster({ version });
      });
      after(async () => cluster?.stop());

      it("FlinkJobStatus reads the cluster's jobs with no ARM client, identity or storage code in its folder", async () => {
        const { dir, removed } = strippedCopy("FlinkJobStatus", AZURE_ONLY);
        assert.ok(removed.includes(BACKEND_FILES.hdinsightAks), `removed: ${removed.join(", ")}`);
        const { connection } = flinkRestConnection(cluster.restUrl);
        const run = await runFolder(dir, { task: "FlinkJobStatus", inputs: { target: "flinkRest", flinkConnection: connection.id }, extraConnections: [connection] });
        assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stderr}`);
        assert.equal(run.outputs["jobCount"], "0");
      });
    });
  }

  describe("the HDInsight path with the Flink REST files deleted, on the emulator", () => {
    let emulator: Emulator;
    before(async () => {
      emulator = await startEmulator({ timeScale: 10 });
    });
    after(async () => emulator?.close());

    it("FlinkJobStatus reads a job with no Flink client code in its folder", async () => {
      emulator.jobs.seedRunning("split-read");
      const { dir, removed } = strippedCopy("FlinkJobStatus", FLINK_ONLY);
      assert.ok(removed.includes(BACKEND_FILES.flinkRest), `removed: ${removed.join(", ")}`);
      const run = await runFolder(dir, { task: "FlinkJobStatus", ...connectionFor(emulator, "spnKey"), inputs: { ...clusterInputs(emulator), jobName: "split-read" } });
      assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stderr}`);
      assert.equal(run.outputs["jobStatus"], "RUNNING");
    });
  });
});
