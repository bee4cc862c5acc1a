import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { runDemo } from "../../pipeline-runner/demo";
import { RunLog } from "../../pipeline-runner/log";
import type { StepResult } from "../../pipeline-runner/runner";
import { tempDir } from "../harness/temp";

const SAVEPOINT_PATH = /^abfss?:\/\/\S+\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;

describe("pipeline runner: npm run demo (examples/azure-pipelines.yml through the bundled tasks, against the emulator)", function () {
  this.timeout(180_000);
  let emulator: Emulator;
  let steps: Map<string, StepResult>;
  let log: string;
  let exitCode: number;
  let json: { result: string; steps: StepResult[] };
  let wallMs: number;

  before(async () => {
    emulator = await startEmulator({ port: 0, timeScale: 10 });
    const lines: string[] = [];
    const jsonFile = path.join(tempDir("demo-"), "run.json");
    const started = Date.now();
    const outcome = await runDemo({ emulator, log: new RunLog((l) => lines.push(l)), json: jsonFile });
    wallMs = Date.now() - started;
    exitCode = outcome.exitCode;
    log = lines.join("\n");
    steps = new Map(outcome.run!.steps.map((s) => [s.name ?? s.task, s]));
    json = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as typeof json;
  });
  after(async () => emulator?.close());

  const out = (step: string, name: string) => steps.get(step)?.outputs[name] ?? "";
  const posts = () =>
    emulator.log.entries({ route: "runJob", method: "POST" }).map((e) => (e.body as { properties: Record<string, unknown> }).properties);

  it("exits 0 with every lifecycle step Succeeded and the script step listed as skipped, in well under a minute", () => {
    assert.equal(exitCode, 0, log);
    const results = [...steps.values()].map((s) => `${s.name ?? s.task}:${s.result}`);
    assert.deepEqual(results, [
      "submit:Succeeded",
      "script:Skipped",
      "status:Succeeded",
      "savepoint:Succeeded",
      "savepoints:Succeeded",
      "stop:Succeeded",
      "start:Succeeded",
      "update:Succeeded",
      "statelessUpdate:Succeeded",
      "cancel:Succeeded",
      "delete:Succeeded",
    ]);
    assert.ok(wallMs < 60_000, `the demo took ${wallMs} ms`);
    assert.equal(json.result, "Succeeded");
    assert.equal(json.steps.length, 11);
  });

  it("posts the lifecycle's actions in order, with the job the variables name", () => {
    assert.deepEqual(posts().map((p) => p["action"]), ["NEW", "SAVEPOINT", "LIST_SAVEPOINT", "STOP", "START", "UPDATE", "STATELESS_UPDATE", "CANCEL", "DELETE"]);
    assert.ok(posts().every((p) => p["jobName"] === "orders-enrichment"));
    assert.equal(steps.get("status")!.inputs["jobName"], out("submit", "jobName"), "$(submit.jobName) reached the status step");
    assert.equal(emulator.jobs.list().filter((r) => r.properties.jobName === "orders-enrichment").length, 0, "deleted at the end");
  });

  it("passes output variables on: the start step's savePointName is the stop step's savepointPath", () => {
    const stopped = out("stop", "savepointPath");
    assert.match(stopped, SAVEPOINT_PATH);
    assert.equal(steps.get("start")!.inputs["savepointName"], stopped);
    const start = posts().find((p) => p["action"] === "START")!;
    assert.equal(start["savePointName"], stopped);
    assert.notEqual(stopped, out("savepoint", "savepointPath"), "the stop wrote a savepoint of its own");
  });

  it("reports each step's outputs as the tasks set them", () => {
    assert.match(out("submit", "jobId"), /^[0-9a-f]{32}$/);
    assert.equal(out("submit", "jobStatus"), "RUNNING");
    assert.equal(out("status", "jobStatus"), "RUNNING");
    assert.equal(out("status", "jobCount"), "1");
    assert.match(out("savepoint", "savepointPath"), SAVEPOINT_PATH);
    assert.ok((JSON.parse(out("savepoints", "savepoints")) as Array<{ path: string }>).some((e) => e.path === out("savepoint", "savepointPath")));
    assert.equal(out("stop", "jobStatus"), "STOPPED");
    assert.equal(out("start", "jobStatus"), "RUNNING");
    assert.notEqual(out("start", "jobId"), out("submit", "jobId"), "a started job has a new Flink job id");
    assert.equal(posts().find((p) => p["action"] === "UPDATE")!["args"], "--window 10m");
    assert.equal(posts().find((p) => p["action"] === "STATELESS_UPDATE")!["args"], "--window 15m");
    assert.equal(out("cancel", "jobStatus"), "CANCELED");
    assert.equal(out("delete", "actionResult"), "SUCCESS");
  });

  it("prints a readable log: headers, the script with its macros expanded, a final table; no secret, no command", () => {
    assert.match(log, /── Step 1\/11: Submit the job \(FlinkJobSubmit@1\)/);
    assert.match(log, new RegExp(`\\| echo "Submitted Flink job orders-enrichment with Flink job id ${out("submit", "jobId")}"`));
    assert.match(log, /^#\s+step\s+task\s+result\s+duration\s+outputs$/m);
    assert.match(log, /^7\s+Start the job from the stop's savepoint\s+FlinkJobStart@1\s+Succeeded\s+[\d.]+ s\s+jobStatus=RUNNING actionResult=SUCCESS$/m);
    assert.match(log, /Pipeline Succeeded in [\d.]+ s/);
    assert.doesNotMatch(log, /##vso\[/i);
    assert.ok(!log.includes(emulator.servicePrincipal.clientSecret));
  });
});
