/**
 * npm run demo -- --target flink: examples/flink-pipeline.yml through the bundled tasks against
 * one real Flink cluster of the test bed (the first CI version), and its effect on Flink itself.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { FLINK_DEMO_JARS, runFlinkDemo } from "../../pipeline-runner/demo";
import { RunLog } from "../../pipeline-runner/log";
import type { StepResult } from "../../pipeline-runner/runner";
import type { FlinkCluster } from "../../testbed/flink/cluster";
import { FLINK_SUITE_SETUP_TIMEOUT_MS, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";
import { tempDir } from "../harness/temp";

const version = CI_FLINK_VERSIONS[0]!;

async function flinkGet<T>(restUrl: string, route: string): Promise<T> {
  const response = await fetch(`${restUrl}${route}`);
  if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

describe(`pipeline runner: npm run demo -- --target flink (examples/flink-pipeline.yml on a real Flink ${version})`, function () {
  this.timeout(300_000);
  let cluster: FlinkCluster;
  let exitCode: number;
  let log: string;
  let steps: Map<string, StepResult>;
  let workingDirectory: string;

  const flink = useSharedFlinkCluster(version);

  before(async function () {
    this.timeout(FLINK_SUITE_SETUP_TIMEOUT_MS);
    cluster = flink.cluster;
    const lines: string[] = [];
    const json = path.join(tempDir("flink-demo-json-"), "run.json");
    const outcome = await runFlinkDemo({ flinkUrl: cluster.restUrl, log: new RunLog((l) => lines.push(l)), json });
    exitCode = outcome.exitCode;
    workingDirectory = outcome.workingDirectory;
    log = lines.join("\n");
    steps = new Map((outcome.run?.steps ?? []).map((s) => [s.name ?? s.task, s]));
    assert.equal((JSON.parse(fs.readFileSync(json, "utf8")) as { result: string }).result, outcome.run?.result);
  });

  it("exits 0 with every lifecycle step Succeeded, in order, and says what it created", () => {
    assert.equal(exitCode, 0, log);
    assert.deepEqual(
      [...steps.values()].map((s) => `${s.name}:${s.result}`),
      ["submit", "status", "savepoint", "update", "stop", "start", "cancel", "delete"].map((n) => `${n}:Succeeded`),
      log,
    );
    assert.match(log, new RegExp(`Every flinkConnection \\(steps with target: flinkRest\\) is the Flink cluster at ${cluster.restUrl.replace(/[.]/g, "\\.")}`));
    assert.ok(log.includes(`the working directory ${workingDirectory}`), log);
    assert.ok(log.includes(FLINK_DEMO_JARS.v1) && log.includes(FLINK_DEMO_JARS.v2), log);
    assert.equal(fs.existsSync(workingDirectory), false, "the demo's working directory is removed at the end");
  });

  it("leaves Flink as the lifecycle says: the started job restored from the stop's savepoint, nothing running, no jar left", async () => {
    const out = (step: string, name: string) => steps.get(step)?.outputs[name] ?? "";
    const stopSavepoint = out("stop", "savepointPath");
    assert.match(stopSavepoint, /savepoint-/);
    assert.ok(fs.existsSync(path.join(new URL(stopSavepoint).pathname, "_metadata")), `${stopSavepoint}/_metadata`);
    const started = out("start", "jobId");
    assert.notEqual(started, out("submit", "jobId"));
    const checkpoints = await flinkGet<{ latest: { restored: { external_path: string; is_savepoint: boolean } | null } }>(cluster.restUrl, `/jobs/${started}/checkpoints`);
    assert.equal(checkpoints.latest.restored?.external_path, stopSavepoint);
    assert.equal(checkpoints.latest.restored?.is_savepoint, true);
    const updated = await flinkGet<{ latest: { restored: { external_path: string } | null } }>(cluster.restUrl, `/jobs/${out("update", "jobId")}/checkpoints`);
    assert.match(updated.latest.restored?.external_path ?? "", /savepoint-/, "the update restored from a savepoint");
    const jobs = await flinkGet<{ jobs: Array<{ jid: string; name: string; state: string }> }>(cluster.restUrl, "/jobs/overview");
    assert.deepEqual(jobs.jobs.filter((j) => !["FINISHED", "CANCELED", "FAILED"].includes(j.state)), [], "no job left running");
    assert.equal(jobs.jobs.find((j) => j.jid === started)?.state, "CANCELED");
    assert.deepEqual((await flinkGet<{ files: unknown[] }>(cluster.restUrl, "/jars")).files, [], "the uploaded jars are deleted");
  });
});
