/** Templates with parameters, expanded before the plan as Azure Pipelines does. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PipelineError, planPipelineFile } from "../../pipeline-runner/pipeline";
import { tempDir } from "../harness/temp";

const dir = tempDir("pipeline-templates-");
function write(name: string, yaml: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, yaml);
  return file;
}

const CLUSTER = "azureSubscription: c, resourceGroupName: rg, clusterPoolName: pool, clusterName: cluster";

write(
  "templates/stop-start.yml",
  `parameters:
  - name: jobName
  - name: startMode
    default: savepoint
steps:
  - task: FlinkJobStop@1
    name: stop_\${{ parameters.jobName }}
    inputs: { ${CLUSTER}, jobName: "\${{ parameters.jobName }}" }
  - template: start.yml
    parameters:
      jobName: \${{ parameters.jobName }}
      mode: \${{ parameters.startMode }}
`,
);
write(
  "templates/start.yml",
  `parameters:
  - name: jobName
  - name: mode
steps:
  - task: FlinkJobStart@1
    inputs: { ${CLUSTER}, jobName: "\${{ parameters.jobName }}", startMode: "\${{ parameters['mode'] }}", savepointName: "$(stop_\${{ parameters.jobName }}.savepointPath)" }
`,
);
write(
  "templates/jobs.yml",
  `parameters:
  jobs: []
jobs:
  - job: status
    steps:
      - task: FlinkJobStatus@1
        inputs: { ${CLUSTER}, jobName: "\${{ parameters.jobs }}" }
`,
);

describe("pipeline runner: templates with parameters", () => {
  it("expands step templates (nested, relative to the including file), with defaults and given values", () => {
    const file = write(
      "pipeline.yml",
      `parameters:
  - name: job
    default: orders
steps:
  - template: templates/stop-start.yml
    parameters:
      jobName: \${{ parameters.job }}
  - template: templates/stop-start.yml
    parameters: { jobName: clicks, startMode: relaunch }
`,
    );
    const plan = planPipelineFile(file);
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(
      plan.steps.map((s) => [s.task?.name, s.name, s.inputs["jobName"], s.inputs["startMode"], s.inputs["savepointName"]]),
      [
        ["FlinkJobStop", "stop_orders", "orders", undefined, undefined],
        ["FlinkJobStart", undefined, "orders", "savepoint", "$(stop_orders.savepointPath)"],
        ["FlinkJobStop", "stop_clicks", "clicks", undefined, undefined],
        ["FlinkJobStart", undefined, "clicks", "relaunch", "$(stop_clicks.savepointPath)"],
      ],
    );
    assert.equal(planPipelineFile(file, { parameters: { job: "payments" } }).steps[0]!.inputs["jobName"], "payments", "--param sets the pipeline's parameter");
  });

  it("expands job templates; a list parameter keeps its type where it is the whole value", () => {
    const file = write("jobs-pipeline.yml", `jobs:\n  - template: templates/jobs.yml\n    parameters:\n      jobs: [a, b]\n`);
    const plan = planPipelineFile(file);
    assert.deepEqual(plan.stages[0]!.jobs.map((j) => j.name), ["status"]);
    assert.equal(plan.steps[0]!.inputs["jobName"], '["a","b"]');
  });

  it("refuses a missing required parameter or an unknown one, naming it; says what it does not expand", () => {
    const missing = write("missing.yml", `steps:\n  - template: templates/start.yml\n    parameters: { jobName: x }\n`);
    assert.throws(() => planPipelineFile(missing), (e: unknown) => e instanceof PipelineError && /a value for the parameter 'mode' must be provided/.test(e.message));
    const extra = write("extra.yml", `steps:\n  - template: templates/start.yml\n    parameters: { jobName: x, mode: savepoint, colour: red }\n`);
    assert.throws(() => planPipelineFile(extra), /'colour' is not a parameter of the template/);
    const absent = write("absent.yml", `steps:\n  - template: templates/nope.yml\n`);
    assert.throws(() => planPipelineFile(absent), /template 'templates\/nope.yml': no such file/);
    const other = write("other-repo.yml", `steps:\n  - template: steps.yml@templates\n  - task: FlinkJobStatus@1\n    inputs: { ${CLUSTER}, jobName: "\${{ variables.job }}" }\n`);
    const plan = planPipelineFile(other);
    assert.match(plan.steps[0]!.notRunReason ?? "", /step template 'steps.yml@templates' is not expanded/);
    assert.ok(plan.warnings.some((w) => /template expressions other than \$\{\{ parameters.name \}\} are not expanded by the local runner: \$\{\{ variables.job \}\}/.test(w)), plan.warnings.join("\n"));
  });
});
