import assert from "node:assert/strict";
import { PipelineError, planPipeline } from "../../pipeline-runner/pipeline";
import { loadTaskCatalog, parseTaskReference, resolveInputs } from "../../pipeline-runner/task-catalog";

describe("pipeline runner: planning a YAML file", () => {
  const catalog = loadTaskCatalog();

  it("knows all nine tasks from their task.json", () => {
    assert.deepEqual(
      [...catalog.values()].map((t) => t.name).sort(),
      ["FlinkJobCancel", "FlinkJobDelete", "FlinkJobDeploy", "FlinkJobStart", "FlinkJobStatus", "FlinkJobStop", "FlinkJobSubmit", "FlinkJobUpdate", "FlinkSavepoint"],
    );
  });

  it("reads task references, plain and fully qualified", () => {
    assert.deepEqual(parseTaskReference("FlinkJobSubmit@1"), { name: "FlinkJobSubmit", major: 1 });
    assert.deepEqual(parseTaskReference("flink-jobs-pipelines.flink-jobs-hdinsight-aks.FlinkJobStop@1"), { name: "FlinkJobStop", major: 1 });
    assert.deepEqual(parseTaskReference("FlinkJobStop"), { name: "FlinkJobStop", major: undefined });
  });

  it("maps aliases to input names, fills task.json defaults and writes booleans and numbers as the agent does", () => {
    const { inputs, unknown } = resolveInputs(catalog.get("flinkjobsubmit")!, {
      azureResourceManagerConnection: "prod-arm",
      JOBNAME: "orders",
      waitForCompletion: false,
      parallelism: 4,
      args: null,
      colour: "blue",
    });
    assert.equal(inputs["azureSubscription"], "prod-arm");
    assert.equal(inputs["jobName"], "orders");
    assert.equal(inputs["waitForCompletion"], "false");
    assert.equal(inputs["parallelism"], "4");
    assert.equal(inputs["args"], "");
    assert.equal(inputs["apiVersion"], "2024-05-01-preview");
    assert.equal(inputs["waitTimeoutInMinutes"], "30");
    assert.equal(inputs["pollingIntervalInSeconds"], "10");
    assert.equal("savepointDirectory" in inputs, false, "no default, not given: not set");
    assert.deepEqual(unknown, ["colour"]);
    // The input's own name wins over its alias when both are given.
    assert.equal(resolveInputs(catalog.get("flinkjobstop")!, { azureSubscription: "a", azureResourceManagerConnection: "b" }).inputs["azureSubscription"], "a");
    assert.equal(resolveInputs(catalog.get("flinkjobstop")!, { azureResourceManagerConnection: "b", azureSubscription: "a" }).inputs["azureSubscription"], "a");
  });

  it("flattens stages → jobs → steps in file order, with conditions, names and what it will not run", () => {
    const plan = planPipeline(
      `
variables:
  - name: connection
    value: prod-arm
  - group: flink-secrets
stages:
  - stage: Build
    jobs:
      - job: Compile
        steps:
          - checkout: self
          - script: mvn package
  - stage: Deploy
    variables:
      jobName: orders
    jobs:
      - deployment: Flink
        environment: prod
        strategy:
          runOnce:
            deploy:
              steps:
                - task: flink-jobs-pipelines.flink-jobs-hdinsight-aks.FlinkJobSubmit@1
                  name: submit
                  inputs:
                    azureResourceManagerConnection: $(connection)
                    jobName: $(jobName)
                - task: FlinkJobStatus@1
                  displayName: Check
                  condition: always()
                  continueOnError: true
                  enabled: false
                  inputs: { jobName: $(submit.jobName) }
                - task: AzureCLI@2
                  inputs: { scriptType: bash }
`,
      { catalog },
    );
    assert.deepEqual(plan.variables, [{ name: "connection", value: "prod-arm" }]);
    assert.match(plan.warnings.join("\n"), /variable group 'flink-secrets' is not available locally; pass its values with --var/);
    assert.deepEqual(
      plan.steps.map((s) => [s.index, s.stage, s.job, s.kind, s.notRunReason ?? "runs"]),
      [
        [1, "Build", "Compile", "checkout", "checkout steps are not run by the local runner (only this extension's tasks are)"],
        [2, "Build", "Compile", "script", "script steps are not run by the local runner (only this extension's tasks are)"],
        [3, "Deploy", "Flink", "task", "runs"],
        [4, "Deploy", "Flink", "task", "disabled (enabled: false)"],
        [5, "Deploy", "Flink", "task", "task AzureCLI@2 is not one of this extension's tasks"],
      ],
    );
    const [submit, status] = [plan.steps[2]!, plan.steps[3]!];
    assert.equal(submit.task?.name, "FlinkJobSubmit");
    assert.equal(submit.name, "submit");
    assert.equal(submit.inputs["azureSubscription"], "$(connection)", "macros wait for run time");
    assert.equal(submit.displayName, "Submit Flink job $(jobName)", "instanceNameFormat with the step's own input");
    assert.equal(submit.condition, "succeeded()");
    assert.equal(status.displayName, "Check");
    assert.equal(status.condition, "always()");
    assert.equal(status.continueOnError, true);
    assert.equal(plan.stages[1]!.dependsOn.join(), "Build", "a stage depends on the one before it by default");
    assert.deepEqual(plan.stages[1]!.variables, [{ name: "jobName", value: "orders" }]);
  });

  it("accepts a file of only steps and the mapping form of variables", () => {
    const plan = planPipeline("variables:\n  a: 1\n  b: true\nsteps:\n  - bash: echo hi\n");
    assert.deepEqual(plan.variables, [{ name: "a", value: "1" }, { name: "b", value: "true" }]);
    assert.equal(plan.steps[0]!.displayName, "bash: echo hi");
    assert.equal(plan.stages[0]!.jobs[0]!.implicit, true);
  });

  it("refuses files the service would refuse, saying why", () => {
    const wrong = (yaml: string, message: RegExp) => assert.throws(() => planPipeline(yaml, { catalog }), (e: unknown) => e instanceof PipelineError && message.test(e.message));
    wrong("steps:\n  - task: FlinkJobStop@2\n", /FlinkJobStop@2 asks for version 2, but this extension's FlinkJobStop is version 1/);
    wrong("steps:\n  - task: FlinkJobStop\n", /needs a major version, e.g. FlinkJobStop@1/);
    wrong("steps:\n  - task: FlinkJobStop@1\n    name: stop\n  - task: FlinkJobStart@1\n    name: stop\n", /two steps of job Job are named 'stop'/);
    wrong("steps:\n  - task: FlinkJobStop@1\n    name: stop-job\n", /step name 'stop-job' may hold only letters, digits and '_'/);
    wrong("steps:\n  - task: FlinkJobStop@1\n    condition: eq(variables['x'], 'y'\n", /condition/);
    wrong("trigger: none\n", /no stages, jobs or steps/);
    wrong("steps: [\n", /not valid YAML/);
    wrong("extends:\n  template: x.yml\n", /'extends:' templates are not expanded/);
  });
});
