import assert from "node:assert/strict";
import * as path from "node:path";
import { build } from "esbuild";
import { type Emulator, startEmulator } from "../../emulator/index";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { agentEnvironment, parseRun } from "../harness/agent";
import { clusterInputs, connectionFor, runOnEmulator } from "../harness/emulator-connections";
import { injectedCommands } from "../harness/log-hygiene";
import { tempDir } from "../harness/temp";

const CANCEL_OUTPUTS = ["jobName", "runId", "jobId", "jobStatus", "actionResult", "jobOutput", "lastSavepoint"];
const EVIL = "stop\n##vso[task.setvariable variable=pwned;isOutput=true]yes\n##vso[task.complete result=Succeeded;]all good";

describe("log hygiene: text from the service never becomes a logging command", function () {
  this.timeout(120_000);
  let emulator: Emulator;
  let unsafeBundle: string;

  before(async () => {
    emulator = await startEmulator({ timeScale: 10 });
    const dir = tempDir("unsafe-");
    unsafeBundle = path.join(dir, "index.js");
    await build({ entryPoints: [path.join(__dirname, "..", "fixtures", "unsafe-cancel.ts")], outfile: unsafeBundle, bundle: true, platform: "node", target: "node20", logLevel: "warning" });
  });
  after(async () => emulator?.close());

  function evilJob(name: string): string {
    emulator.jobs.seed({ jobName: name, action: "NEW", actionResult: "SUCCESS", status: "RUNNING", jobId: "0123456789abcdef0123456789abcdef" });
    emulator.faults.add({ kind: "actionFail", action: "CANCEL", jobName: name, jobOutput: EVIL });
    return name;
  }

  it("the real task: only its own commands, the output variable carries the text intact", async () => {
    const r = await runOnEmulator(emulator, "FlinkJobCancel", { jobName: evilJob("evil-real") }, { debug: true });
    assert.deepEqual(injectedCommands(r, CANCEL_OUTPUTS), []);
    assert.equal(r.result, "Failed");
    assert.equal(r.outputs["jobOutput"], EVIL);
  });

  it("the check catches a deliberately unsafe variant that prints jobOutput with console.log", async () => {
    const agent = connectionFor(emulator, "spnKey");
    const tmp = tempDir("agent-");
    const env = agentEnvironment({ task: "unsafe", ...agent, inputs: { ...clusterInputs(emulator), jobName: evilJob("evil-unsafe") } }, tmp);
    // Asynchronously: the emulator runs in this process and must keep answering.
    const child = await promisify(execFile)(process.execPath, [unsafeBundle], { env, encoding: "utf8", timeout: 60_000 });
    const r = parseRun(child.stdout, child.stderr);
    const problems = injectedCommands(r, CANCEL_OUTPUTS);
    assert.ok(problems.includes("task.setvariable pwned"), `not caught: ${problems.join(", ")}`);
    assert.equal(r.outputs["pwned"], "yes", "the unsafe variant really was exploitable");
  });
});
