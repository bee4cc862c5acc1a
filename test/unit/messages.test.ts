/** Input messages as a user reads them: advice that works, and the real cause named. */
import assert from "node:assert/strict";
import { InputError } from "../../src/errors";
import { jobName, suggestedJobName } from "../../src/validation/rules";
import { validateHdInsightInputs } from "../../src/backends/hdinsight-aks/inputs";
import { type TaskSpec, TASKS } from "../../src/tasks";
import { validateCommon } from "../../src/validation/common-inputs";

const start = TASKS.FlinkJobStart;
const submit = TASKS.FlinkJobSubmit;

/** The checks a step makes before any call: the common inputs, then the target's own. */
function validateTask(spec: TaskSpec, raw: (name: string) => string | undefined): void {
  validateHdInsightInputs(validateCommon(spec, raw), raw);
}
const good: Record<string, string> = {
  resourceGroupName: "rg-flink",
  clusterPoolName: "pool1",
  clusterName: "cluster1",
  jobName: "orders",
  jobJarDirectory: "abfss://jars@acct.dfs.core.windows.net/jobs",
  jarName: "orders-1.0.jar",
  entryClass: "com.contoso.Orders",
};

function refusal(spec: TaskSpec, overrides: Record<string, string>): InputError {
  const inputs = { ...good, ...overrides };
  try {
    validateTask(spec, (name) => inputs[name]);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  assert.fail(`accepted ${JSON.stringify(overrides)}`);
}

describe("messages: a job name the task refuses comes with one it accepts", () => {
  for (const [given, expected] of [
    ["Orders_Enrichment", "orders-enrichment"],
    ["Orders Enrichment v2", "orders-enrichment-v2"],
    ["ORDERS", "orders"],
    ["orders_enrichment", "orders-enrichment"],
    ["-orders-", "orders"],
    ["orders..enrichment", "orders-enrichment"],
  ] as const) {
    it(`${given} → ${expected}, which the task then accepts`, () => {
      const error = refusal(start, { jobName: given });
      assert.equal(error.input, "jobName");
      assert.ok(error.message.endsWith(`: use "${expected}"`), error.message);
      assert.equal(jobName("jobName", expected), expected, "the suggestion passes the same rule");
    });
  }

  it("suggests nothing when no accepted name is near", () => {
    assert.equal(suggestedJobName("___"), undefined);
    const error = refusal(start, { jobName: "___" });
    assert.doesNotMatch(error.message, /use "/);
  });
});

describe("messages: an undefined pipeline variable is named as such, in any input", () => {
  it("$(stop2.savePath) in savepointName: the variable is not defined, not 'not a savepoint name'", () => {
    const error = refusal(start, { savepointName: "$(stop2.savePath)" });
    assert.equal(error.input, "savepointName");
    assert.match(error.message, /uses the pipeline variable \$\(stop2\.savePath\), which is not defined/);
    assert.match(error.message, /a step named 'stop2' runs earlier in this job and sets the output variable 'savePath'/);
    assert.doesNotMatch(error.message, /not a savepoint name/);
  });

  it("a plain variable in a name, a path, a number, a flag or a setting: each names the input and the variable", () => {
    const cases: [TaskSpec, string, string][] = [
      [start, "jobName", "$(jobName)"],
      [start, "resourceGroupName", "$(rg)"],
      [start, "clusterName", "flink-$(env)"],
      [submit, "jobJarDirectory", "abfss://jars@$(account).dfs.core.windows.net/jobs"],
      [submit, "jarName", "orders-$(version).jar"],
      [submit, "entryClass", "$(mainClass)"],
      [submit, "parallelism", "$(parallelism)"],
      [submit, "waitForCompletion", "$(wait)"],
      [submit, "flinkConfiguration", "taskmanager.numberOfTaskSlots=$(slots)"],
      [start, "startMode", "$(mode)"],
    ];
    for (const [spec, input, value] of cases) {
      const error = refusal(spec, { [input]: value });
      const variable = /\$\(([^)]+)\)/.exec(value)![1];
      assert.ok(error.input.startsWith(input), `${input}: ${error.message}`);
      assert.match(error.message, new RegExp(`uses the pipeline variable \\$\\(${variable}\\), which is not defined`), `${input}: ${error.message}`);
      assert.match(error.message, /define it under variables:, or check its spelling/);
    }
  });

  it("a runtime expression $[ … ] in an input says where it belongs", () => {
    const error = refusal(start, { savepointName: "$[ dependencies.deploy.outputs['stop.savepointPath'] ]" });
    assert.equal(error.input, "savepointName");
    assert.match(error.message, /runtime expression \$\[ … \], which Azure Pipelines evaluates only in variables: and conditions; set a variable to it and use \$\(variable\) here/);
  });

  it("a ##vso[ command dressed as a macro is still refused as a logging command, never echoed", () => {
    const error = refusal(start, { args: "$(##vso[task.setvariable variable=x]y)" });
    assert.match(error.message, /contains '##vso\[' or '##\['/);
  });
});
