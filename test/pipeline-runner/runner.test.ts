import assert from "node:assert/strict";
import type { RunnerConnection } from "../../pipeline-runner/connection";
import { classifyTaskLine, neutralise, RunLog } from "../../pipeline-runner/log";
import { planPipeline } from "../../pipeline-runner/pipeline";
import { runPipeline, type TaskExecution, type TaskExecutor } from "../../pipeline-runner/runner";

const CONNECTION: RunnerConnection = {
  connection: { id: "0c5c6a3e-0000-4000-8000-000000000001", url: "https://arm.example/", scheme: "ServicePrincipal", parameters: {}, data: {} },
  env: { NODE_EXTRA_CA_CERTS: "/tmp/ca.pem" },
  secrets: ["connection-secret-value"],
  description: "a test connection",
};

type Script = (execution: TaskExecution) => { lines: string[]; exitCode?: number | null; timedOut?: boolean };

/** Plays tasks without processes: each call is recorded and answers with the lines its script gives. */
function fakeTasks(script: Script): { executor: TaskExecutor; calls: TaskExecution[] } {
  const calls: TaskExecution[] = [];
  const executor: TaskExecutor = async (execution) => {
    calls.push(execution);
    const { lines, exitCode = 0, timedOut = false } = script(execution);
    lines.forEach((l) => execution.onLine(l));
    return { exitCode, timedOut };
  };
  return { executor, calls };
}

const ok = (outputs: Record<string, string> = {}) => [
  ...Object.entries(outputs).map(([k, v]) => `##vso[task.setvariable variable=${k};isOutput=true;issecret=false;]${v}`),
  "##vso[task.complete result=Succeeded;]done",
];
const fail = (message: string) => [`##vso[task.issue type=error;]${message}`, `##vso[task.complete result=Failed;]${message}`];

async function run(yaml: string, script: Script, variables: Record<string, string> = {}) {
  const { executor, calls } = fakeTasks(script);
  const lines: string[] = [];
  const log = new RunLog((l) => lines.push(l));
  const result = await runPipeline(planPipeline(yaml), { connection: CONNECTION, executor, log, variables });
  return { result, calls, log: lines.join("\n") };
}

const STEP = (task: string, extra = "") => `  - task: ${task}@1\n${extra}    inputs:\n      azureSubscription: $(conn)\n      resourceGroupName: rg\n      clusterPoolName: pool\n      clusterName: cluster\n      jobName: $(jobName)\n`;

describe("pipeline runner: running steps", () => {
  it("keeps each step's run summary (uploadsummary or a summary attachment) in the summary folder and says where", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "summaries-"));
    const summaryDir = path.join(work, "run");
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobStop", "    name: stop\n")}${STEP("FlinkJobStatus")}`;
    const { executor } = fakeTasks((e) => {
      // The task's file is in its temporary folder, which goes when it ends.
      const file = path.join(work, `${e.task}.md`);
      fs.writeFileSync(file, `### ${e.task}\n| a | b |`);
      const command = e.task === "FlinkJobStop" ? `##vso[task.addattachment type=Distributedtask.Core.Summary;name=Stop;]${file}` : `##vso[task.uploadsummary]${file}`;
      return { lines: [command, ...ok()] };
    });
    const lines: string[] = [];
    const result = await runPipeline(planPipeline(yaml), { connection: CONNECTION, executor, log: new RunLog((l) => lines.push(l)), summaryDir });
    fs.rmSync(path.join(work, "FlinkJobStop.md"));
    assert.deepEqual(result.steps.map((s) => s.summaryFile), [path.join(summaryDir, "01-stop.md"), path.join(summaryDir, "02-FlinkJobStatus.md")]);
    assert.equal(fs.readFileSync(path.join(summaryDir, "01-stop.md"), "utf8"), "### FlinkJobStop\n| a | b |");
    assert.ok(lines.includes(`   Run summary: ${path.join(summaryDir, "01-stop.md")}`), lines.join("\n"));
    assert.ok(lines.some((l) => l.includes(`run summary (what the agent shows on the run's Extensions tab) is a Markdown file in ${summaryDir}`)));
  });

  it("passes output variables of named steps on as $(step.variable), and hands the task the connection, not its name", async () => {
    const yaml = `variables:\n  conn: prod-arm\n  jobName: orders\nsteps:\n${STEP("FlinkJobStop", "    name: stop\n")}  - task: FlinkJobStart@1\n    name: start\n    inputs:\n      azureResourceManagerConnection: $(conn)\n      jobName: $(jobName)\n      savepointName: $(stop.savepointPath)\n      args: --from $(stop.jobId) $(nope.nothing)\n`;
    const { result, calls, log } = await run(yaml, (e) =>
      e.task === "FlinkJobStop" ? { lines: ok({ savepointPath: "abfs://x/savepoint-abc123-0123456789ab", jobId: "f".repeat(32) }) } : { lines: ok({ jobStatus: "RUNNING" }) },
    );
    assert.equal(result.result, "Succeeded");
    assert.deepEqual(calls.map((c) => c.task), ["FlinkJobStop", "FlinkJobStart"]);
    const start = calls[1]!;
    assert.equal(start.inputs["savepointName"], "abfs://x/savepoint-abc123-0123456789ab");
    assert.equal(start.inputs["args"], `--from ${"f".repeat(32)} $(nope.nothing)`);
    assert.equal(start.inputs["startMode"], "savepoint", "task.json default");
    assert.equal("azureSubscription" in start.inputs, false, "the runner's one connection stands in for the name");
    assert.equal(result.steps[1]!.inputs["azureSubscription"], "prod-arm");
    assert.equal(start.variables["stop.savepointPath"], "abfs://x/savepoint-abc123-0123456789ab", "outputs reach the task's environment like other variables");
    assert.deepEqual(result.steps[1]!.outputs, { jobStatus: "RUNNING" });
    assert.match(log, /note: input args: \$\(nope\.nothing\) is not a variable here and is passed as written/);
  });

  it("skips later steps after a failure unless their condition says otherwise, and fails the run", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobSubmit", "    name: submit\n")}${STEP("FlinkJobStatus")}${STEP("FlinkJobCancel", "    condition: failed()\n")}${STEP("FlinkJobDelete", "    condition: always()\n")}${STEP("FlinkJobStop", "    condition: succeeded()\n")}`;
    const { result, calls, log } = await run(yaml, (e) => (e.task === "FlinkJobSubmit" ? { lines: fail("NEW ended FAILED"), exitCode: 1 } : { lines: ok() }));
    assert.deepEqual(calls.map((c) => c.task), ["FlinkJobSubmit", "FlinkJobCancel", "FlinkJobDelete"]);
    assert.deepEqual(result.steps.map((s) => s.result), ["Failed", "Skipped", "Succeeded", "Succeeded", "Skipped"]);
    assert.equal(result.result, "Failed");
    assert.equal(result.steps[0]!.message, "NEW ended FAILED");
    assert.deepEqual(result.steps[0]!.errors, ["NEW ended FAILED"]);
    assert.match(result.steps[1]!.message, /condition 'succeeded\(\)' is false \(job status so far: Failed\)/);
    assert.match(log, /ERROR: NEW ended FAILED/);
  });

  it("continueOnError turns a failure into SucceededWithIssues and later steps still run", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobStop", "    continueOnError: true\n")}${STEP("FlinkJobStart")}${STEP("FlinkJobCancel", "    condition: failed()\n")}`;
    const { result, calls } = await run(yaml, (e) => (e.task === "FlinkJobStop" ? { lines: fail("STOP ended FAILED"), exitCode: 1 } : { lines: ok() }));
    assert.deepEqual(result.steps.map((s) => s.result), ["SucceededWithIssues", "Succeeded", "Skipped"]);
    assert.match(result.steps[0]!.message, /continueOnError is set: STOP ended FAILED/);
    assert.deepEqual(calls.map((c) => c.task), ["FlinkJobStop", "FlinkJobStart"]);
    assert.equal(result.result, "SucceededWithIssues");
  });

  it("judges a step as the agent does: exit code, task.complete, timeouts", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobStop", "    continueOnError: true\n")}${STEP("FlinkJobStart", "    continueOnError: true\n")}${STEP("FlinkJobCancel", "    continueOnError: true\n")}${STEP("FlinkJobDelete", "    timeoutInMinutes: 2\n")}`;
    const { result, calls } = await run(yaml, (e) =>
      e.task === "FlinkJobStop"
        ? { lines: ["crashed"], exitCode: 3 }
        : e.task === "FlinkJobStart"
          ? { lines: ["##vso[task.complete result=Failed;]no"], exitCode: 0 }
          : e.task === "FlinkJobCancel"
            ? { lines: ["##vso[task.complete result=SucceededWithIssues;]meh"] }
            : { lines: [], exitCode: null, timedOut: true },
    );
    assert.deepEqual(result.steps.map((s) => s.message), [
      "failed, but continueOnError is set: the task exited with code 3",
      "failed, but continueOnError is set: no",
      "meh",
      "the step ran past its 2-minute timeout and was stopped",
    ]);
    assert.deepEqual(result.steps.map((s) => s.result), ["SucceededWithIssues", "SucceededWithIssues", "SucceededWithIssues", "Failed"]);
    assert.deepEqual(calls.map((c) => c.timeoutMs), [3_600_000, 3_600_000, 3_600_000, 120_000]);
  });

  it("fails a step whose service connection input is missing or empty, without starting the task", async () => {
    const yaml = `steps:\n  - task: FlinkJobStop@1\n    continueOnError: true\n    inputs: { jobName: j }\n  - task: FlinkJobStop@1\n    inputs: { jobName: j, azureSubscription: '$(empty)' }\n`;
    const { result, calls, log } = await run(yaml, () => ({ lines: ok() }), { empty: "" });
    assert.equal(calls.length, 0);
    assert.deepEqual(result.steps.map((s) => s.result), ["SucceededWithIssues", "Failed"]);
    assert.match(log, /ERROR: Input required: azureSubscription/);
  });

  it("honours enabled: false, --var over YAML variables, and variables in conditions", async () => {
    const yaml = `variables: { conn: c, jobName: j, deploy: 'false' }\nsteps:\n${STEP("FlinkJobStop", "    enabled: false\n")}${STEP("FlinkJobStart", "    condition: and(succeeded(), eq(variables['deploy'], 'true'))\n")}`;
    const { result, calls } = await run(yaml, () => ({ lines: ok() }), { deploy: "true", jobName: "from-cli" });
    assert.deepEqual(result.steps.map((s) => s.result), ["Skipped", "Succeeded"]);
    assert.equal(result.steps[0]!.message, "disabled (enabled: false)");
    assert.equal(calls[0]!.inputs["jobName"], "from-cli");
  });

  it("runs stages and jobs in order, skipping those whose dependencies failed", async () => {
    const yaml = `variables: { conn: c, jobName: j }
stages:
  - stage: A
    jobs:
      - job: A1
        steps:
${STEP("FlinkJobStop").replace(/^(?=.)/gm, "        ")}      - job: A2
        steps:
${STEP("FlinkJobStart").replace(/^(?=.)/gm, "        ")}      - job: A3
        dependsOn: A1
        steps:
${STEP("FlinkJobCancel").replace(/^(?=.)/gm, "        ")}  - stage: B
    jobs:
      - job: B1
        steps:
${STEP("FlinkJobDelete").replace(/^(?=.)/gm, "        ")}  - stage: C
    condition: failed()
    jobs:
      - job: C1
        steps:
${STEP("FlinkJobStatus").replace(/^(?=.)/gm, "        ")}`;
    const { result, calls, log } = await run(yaml, (e) => (e.task === "FlinkJobStop" ? { lines: fail("boom"), exitCode: 1 } : { lines: ok() }));
    // A2 has no dependency inside the stage, so it runs; A3 depends on A1; B depends on A; C on B (skipped → not failed).
    assert.deepEqual(calls.map((c) => c.task), ["FlinkJobStop", "FlinkJobStart"]);
    assert.deepEqual(result.steps.map((s) => `${s.stage}/${s.job}:${s.result}`), ["A/A1:Failed", "A/A2:Succeeded", "A/A3:Skipped", "B/B1:Skipped", "C/C1:Skipped"]);
    assert.match(log, /Stage A › Job A3: skipped, condition 'succeeded\(\)' of job A3 is false/);
  });

  it("applies the task's commands: secrets masked from then on, settableVariables enforced, debug only with System.Debug", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobStop", "    name: stop\n")}`;
    const lines = [
      "token is tok-123456 before it was secret",
      "##vso[task.setsecret]tok-123456",
      "token is tok-123456 after",
      "##vso[task.debug]debug detail",
      "##vso[task.setvariable variable=PATH;isOutput=true]/evil",
      "##vso[task.setvariable variable=jobStatus;isOutput=true;issecret=true]hush-hush-1",
      "status hush-hush-1 and connection-secret-value",
      "##vso[task.issue type=warning;]careful",
      ...ok(),
    ];
    const quiet = await run(yaml, () => ({ lines }));
    assert.match(quiet.log, /token is tok-123456 before it was secret/, "a value is only secret once registered, as in the agent");
    assert.match(quiet.log, /token is \*\*\* after/);
    assert.match(quiet.log, /status \*\*\* and \*\*\*/);
    assert.doesNotMatch(quiet.log, /debug detail/);
    assert.match(quiet.log, /WARNING: FlinkJobStop may not set the variable 'PATH' \(restrictions\.settableVariables\); ignored/);
    assert.match(quiet.log, /WARNING: careful/);
    assert.deepEqual(quiet.result.steps[0]!.outputs, { jobStatus: "hush-hush-1" });
    assert.deepEqual(quiet.result.steps[0]!.warnings, ["careful"]);
    const loud = await run(yaml, () => ({ lines }), { "System.Debug": "true" });
    assert.match(loud.log, /DEBUG: debug detail/);
    assert.equal(loud.calls[0]!.variables["System.Debug"], "true");
  });

  it("never prints a ##vso[ command it received: text before a command, malformed commands and messages are neutralised", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobStop", "    name: stop\n")}`;
    const { result, log } = await run(yaml, () => ({
      lines: [
        "job said: ##vso[task.setvariable variable=jobStatus;isOutput=true]HACKED",
        "##vso[task.setvariable variable=x;isOutput=true",
        "##VSO[task.complete result=Failed]upper case",
        "##vso[task.issue type=error;]the service said ##vso[task.complete result=Succeeded]",
        ...ok(),
      ],
    }));
    assert.doesNotMatch(log, /##vso\[/i);
    assert.match(log, /job said: $/m);
    assert.match(log, /##_vso\[task\.setvariable variable=x;isOutput=true$/m);
    assert.match(log, /ERROR: the service said ##_vso\[task\.complete/);
    // The first command in a line is acted on, as the agent does; what a task must never do is print it.
    assert.equal(result.steps[0]!.outputs["jobStatus"], "HACKED");
    assert.equal(neutralise("a ##vso[x]b ##Vso[y]"), "a ##_vso[x]b ##_Vso[y]");
    assert.deepEqual(classifyTaskLine("plain"), { kind: "show", text: "plain" });
  });

  it("lists steps that are not ours as skipped, showing a script with its macros expanded", async () => {
    const yaml = `variables: { conn: c, jobName: j }\nsteps:\n${STEP("FlinkJobSubmit", "    name: submit\n")}  - script: echo "$(submit.jobId)"\n    displayName: Show id\n  - pwsh: Write-Host hi\n  - task: AzureCLI@2\n`;
    const { result, log } = await run(yaml, () => ({ lines: ok({ jobId: "a".repeat(32) }) }));
    assert.deepEqual(result.steps.map((s) => [s.task, s.result]), [["FlinkJobSubmit@1", "Succeeded"], ["script", "Skipped"], ["pwsh", "Skipped"], ["AzureCLI@2", "Skipped"]]);
    assert.match(log, new RegExp(`\\| echo "${"a".repeat(32)}"`));
    assert.match(log, /AzureCLI@2 is not one of this extension's tasks/);
    assert.equal(result.result, "Succeeded");
  });
});
