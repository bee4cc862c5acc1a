import assert from "node:assert/strict";
import { conditionHolds, expandMacros, parseCondition, unexpandedMacros, VariableScope } from "../../pipeline-runner/expressions";

describe("pipeline runner: macros and conditions", () => {
  describe("$(variable) macros", () => {
    it("replaces known variables case-insensitively and leaves unknown ones as written", () => {
      const vars = new VariableScope();
      vars.set("clusterName", "flinkcluster");
      vars.set("submit.jobId", "25e318907f786a2c6aee392df6580035", { expand: false });
      assert.equal(expandMacros("$(CLUSTERNAME)/$(submit.jobId)/$(nope)", vars), "flinkcluster/25e318907f786a2c6aee392df6580035/$(nope)");
      assert.deepEqual(unexpandedMacros(expandMacros("$(clusterName) $(stop.savepointPath)", vars)), ["stop.savepointPath"]);
    });

    it("expands YAML variables that reference others, through scopes, and survives a cycle", () => {
      const pipeline = new VariableScope();
      pipeline.set("env", "prod");
      pipeline.set("a", "$(b)");
      pipeline.set("b", "$(a)");
      const job = new VariableScope(pipeline);
      job.set("jobName", "orders-$(env)");
      job.set("env", "test");
      assert.equal(expandMacros("$(jobName)", job), "orders-test");
      assert.equal(expandMacros("$(jobName)", pipeline), "$(jobName)");
      assert.equal(job.get("a"), "$(b)"); // the cycle stops at the first repeat
      assert.deepEqual(job.all()["jobName"], "orders-test");
    });

    it("takes output variables verbatim: a value from the service is not expanded again", () => {
      const vars = new VariableScope();
      vars.set("secretThing", "s3cr3t");
      vars.set("submit.jobOutput", "text with $(secretThing)", { expand: false });
      assert.equal(expandMacros("$(submit.jobOutput)", vars), "text with $(secretThing)");
    });
  });

  describe("conditions", () => {
    const context = (jobStatus: string, vars: Record<string, string> = {}) => {
      const variables = new VariableScope();
      for (const [k, v] of Object.entries(vars)) variables.set(k, v);
      return { variables, dependencyResults: () => [jobStatus] };
    };

    it("succeeded(), failed(), always(), succeededOrFailed() follow the job's status", () => {
      for (const [status, expected] of [
        ["Succeeded", { "succeeded()": true, "failed()": false, "always()": true, "succeededOrFailed()": true, "canceled()": false }],
        ["SucceededWithIssues", { "succeeded()": true, "failed()": false, "always()": true, "succeededOrFailed()": true, "canceled()": false }],
        ["Failed", { "succeeded()": false, "failed()": true, "always()": true, "succeededOrFailed()": true, "canceled()": false }],
        ["Skipped", { "succeeded()": false, "failed()": false, "always()": true, "succeededOrFailed()": false, "canceled()": false }],
      ] as const) {
        for (const [condition, holds] of Object.entries(expected)) assert.equal(conditionHolds(condition, context(status)), holds, `${condition} with ${status}`);
      }
    });

    it("evaluates and/or/not/eq/ne/in/contains with variables['x'] and variables.x", () => {
      const ctx = context("Succeeded", { deploy: "True", region: "westus2", "Build.SourceBranch": "refs/heads/main" });
      assert.equal(conditionHolds("and(succeeded(), eq(variables['deploy'], 'true'))", ctx), true);
      assert.equal(conditionHolds("and(succeeded(), ne(variables.region, 'westus2'))", ctx), false);
      assert.equal(conditionHolds("or(failed(), in(variables['region'], 'eastus', 'westus2'))", ctx), true);
      assert.equal(conditionHolds("not(contains(variables['Build.SourceBranch'], 'release'))", ctx), true);
      assert.equal(conditionHolds("eq(variables['missing'], '')", ctx), true);
      assert.equal(conditionHolds("startsWith(variables['Build.SourceBranch'], 'refs/heads/')", ctx), true);
      assert.equal(conditionHolds("eq('it''s', 'IT''S')", ctx), true);
      assert.equal(conditionHolds("gt(3, 10)", ctx), false);
    });

    it("rejects what it cannot evaluate, naming it, instead of guessing", () => {
      assert.throws(() => parseCondition("succeeded("), /ends early|expected/);
      assert.throws(() => parseCondition("eq(resources.pipeline.A.runID, '1')"), /'resources\.pipeline\.A\.runID' is not supported/);
      // dependencies.<job>… is read through the context (test/pipeline-runner/cross-job.test.ts); without one it is null.
      assert.equal(conditionHolds("eq(dependencies.A.result, '')", context("Succeeded")), true);
      assert.throws(() => parseCondition("frobnicate()"), /function 'frobnicate' is not supported/);
      assert.throws(() => parseCondition("succeeded() failed()"), /unexpected/);
    });
  });
});
