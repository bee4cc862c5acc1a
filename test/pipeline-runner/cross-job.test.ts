/**
 * Output variables across jobs and stages, as Azure Pipelines evaluates them: a job's
 * `variables:` may read `$[ dependencies.<job>.outputs['<step>.<var>'] ]` of a job it depends on,
 * or `$[ stageDependencies.<stage>.<job>.outputs['<step>.<var>'] ]` of a stage its stage depends on.
 */
import assert from "node:assert/strict";
import type { RunnerConnection } from "../../pipeline-runner/connection";
import { RunLog } from "../../pipeline-runner/log";
import { planPipeline } from "../../pipeline-runner/pipeline";
import { runPipeline, type TaskExecution, type TaskExecutor } from "../../pipeline-runner/runner";

const CONNECTION: RunnerConnection = {
  connection: { id: "0c5c6a3e-0000-4000-8000-000000000002", url: "https://arm.example/", scheme: "ServicePrincipal", parameters: {}, data: {} },
  env: {},
  secrets: [],
  description: "a test connection",
};

/** Each task sets jobName (its input) and jobId as output variables. */
async function run(yaml: string): Promise<{ calls: TaskExecution[]; log: string; result: string }> {
  const calls: TaskExecution[] = [];
  const executor: TaskExecutor = async (execution) => {
    calls.push(execution);
    execution.onLine(`##vso[task.setvariable variable=jobName;isOutput=true;]${execution.inputs["jobName"]}`);
    execution.onLine(`##vso[task.setvariable variable=jobId;isOutput=true;]id-of-${execution.inputs["jobName"]}`);
    execution.onLine("##vso[task.complete result=Succeeded;]done");
    return { exitCode: 0, timedOut: false };
  };
  const lines: string[] = [];
  const outcome = await runPipeline(planPipeline(yaml), { connection: CONNECTION, executor, log: new RunLog((l) => lines.push(l)) });
  return { calls, log: lines.join("\n"), result: outcome.result };
}

const task = (name: string, jobName: string, indent: string) =>
  `${indent}- task: FlinkJobStatus@1\n${indent}  name: ${name}\n${indent}  inputs: { azureSubscription: c, resourceGroupName: rg, clusterPoolName: p, clusterName: k, jobName: "${jobName}" }\n`;

describe("pipeline runner: output variables across jobs and stages", () => {
  it("evaluates $[ dependencies.<job>.outputs['<step>.<var>'] ] in a later job's variables", async () => {
    const yaml = `jobs:
  - job: first
    steps:
${task("submit", "orders", "      ")}  - job: second
    dependsOn: first
    variables:
      fromFirst: $[ dependencies.first.outputs['submit.jobName'] ]
      idFromFirst: $[ dependencies.first.outputs['SUBMIT.JOBID'] ]
      firstResult: $[ dependencies.first.result ]
    steps:
${task("again", "$(fromFirst)-$(idFromFirst)-$(firstResult)", "      ")}`;
    const { calls, log, result } = await run(yaml);
    assert.equal(result, "Succeeded", log);
    assert.equal(calls[1]!.inputs["jobName"], "orders-id-of-orders-Succeeded");
    assert.match(log, /variable fromFirst = \$\[ dependencies\.first\.outputs\['submit\.jobName'\] \] → 'orders'/);
  });

  it("reads empty, and says why, when the job does not depend on the job it reads (as the service does)", async () => {
    const yaml = `jobs:
  - job: first
    steps:
${task("submit", "orders", "      ")}  - job: second
    dependsOn: []
    variables:
      fromFirst: $[ dependencies.first.outputs['submit.jobName'] ]
    steps:
${task("again", "x$(fromFirst)", "      ")}`;
    const { calls, log } = await run(yaml);
    assert.equal(calls[1]!.inputs["jobName"], "x");
    assert.match(log, /variable fromFirst = .* → '' \(nothing in dependencies\.first\.outputs\['submit\.jobName'\]: job second does not depend on 'first'/);
  });

  it("evaluates $[ stageDependencies.<stage>.<job>.outputs['<step>.<var>'] ] in a later stage's job, and stage conditions on dependencies.<stage>.outputs", async () => {
    const yaml = `stages:
  - stage: build
    jobs:
      - job: deploy
        steps:
${task("submit", "orders", "          ")}  - stage: release
    dependsOn: build
    condition: eq(dependencies.build.outputs['deploy.submit.jobName'], 'orders')
    jobs:
      - job: report
        variables:
          fromBuild: $[ stageDependencies.build.deploy.outputs['submit.jobId'] ]
        steps:
${task("read", "$(fromBuild)", "          ")}  - stage: never
    dependsOn: build
    condition: eq(dependencies.build.outputs['deploy.submit.jobName'], 'other')
    jobs:
      - job: skipped
        steps:
${task("nope", "x", "          ")}`;
    const { calls, log, result } = await run(yaml);
    assert.equal(result, "Succeeded", log);
    assert.deepEqual(calls.map((c) => c.inputs["jobName"]), ["orders", "id-of-orders"]);
    assert.match(log, /stage never: skipped|condition .* of stage never is false/);
  });

  it("evaluates functions in runtime expressions, and says plainly what it does not support", async () => {
    const yaml = `jobs:
  - job: first
    steps:
${task("submit", "orders", "      ")}  - job: second
    dependsOn: first
    variables:
      isOrders: $[ eq(dependencies.first.outputs['submit.jobName'], 'orders') ]
      counter: $[ counter('x', 1) ]
    steps:
${task("again", "$(isOrders)", "      ")}${task("literal", "$[ variables.isOrders ]", "      ")}`;
    const { calls, log } = await run(yaml);
    assert.equal(calls[1]!.inputs["jobName"], "True");
    assert.match(log, /variable counter: \$\[ counter\('x', 1\) \] is not supported by the local runner \(function 'counter' is not supported/);
    assert.match(log, /input jobName: a runtime expression \$\[ … \] is evaluated only in variables: and conditions/);
  });
});
