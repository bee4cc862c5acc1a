import assert from "node:assert/strict";
import { validateHdInsightInputs } from "../../src/backends/hdinsight-aks/inputs";
import { InputError } from "../../src/errors";
import { TASKS, type TaskSpec } from "../../src/tasks";
import { validateCommon } from "../../src/validation/common-inputs";
import { parseFlinkConfiguration } from "../../src/validation/flink-configuration";

// The shipped specs, not copies: a change to the table is tested as it ships.
const submit = TASKS.FlinkJobSubmit;
const start = TASKS.FlinkJobStart;

const good: Record<string, string> = {
  resourceGroupName: "rg-flink",
  clusterPoolName: "pool1",
  clusterName: "cluster1",
  jobName: "orders",
  jobJarDirectory: "abfss://jars@acct.dfs.core.windows.net/jobs",
  jarName: "orders-1.0.jar",
  entryClass: "com.contoso.Orders",
};

/** The flow's two validations in its order: the common inputs, then the HDInsight backend's. */
function validate(spec: TaskSpec, overrides: Record<string, string | undefined>) {
  const values = { ...good, ...overrides };
  const raw = (name: string) => values[name];
  const common = validateCommon(spec, raw);
  const inputs = validateHdInsightInputs(common, raw);
  return { ...common, ...inputs, request: common.action ? { action: common.action, jobName: common.jobName, definition: inputs.definition } : undefined };
}

describe("input validation", () => {
  it("builds the NEW body the service expects: parallelism as a string, dotted savepoint.directory", () => {
    const task = validate(submit, {
      parallelism: "4",
      savepointDirectory: "abfss://state@acct.dfs.core.windows.net/sp/",
      flinkConfiguration: "taskmanager.numberOfTaskSlots=2\n# comment\n\nstate.backend: rocksdb",
    });
    assert.deepEqual(task.request, {
      action: "NEW",
      jobName: "orders",
      definition: {
        jobJarDirectory: "abfss://jars@acct.dfs.core.windows.net/jobs",
        jarName: "orders-1.0.jar",
        entryClass: "com.contoso.Orders",
        args: "",
        flinkConfiguration: {
          "taskmanager.numberOfTaskSlots": "2",
          "state.backend": "rocksdb",
          parallelism: "4",
          "savepoint.directory": "abfss://state@acct.dfs.core.windows.net/sp",
        },
      },
    });
    assert.equal(task.timeoutMs, 30 * 60_000);
    assert.equal(task.maxPollIntervalMs, 10_000);
    assert.equal(task.apiVersion, "2024-05-01-preview");
  });

  it("parallelism defaults to \"2\"", () => {
    assert.equal(validate(submit, {}).request?.definition.flinkConfiguration?.["parallelism"], "2");
  });

  const bad: [string, TaskSpec, Record<string, string | undefined>, string, RegExp][] = [
    ["upper-case job name", submit, { jobName: "Orders" }, "jobName", /lower case.*"orders"/],
    ["job name with a space inside", submit, { jobName: "my job" }, "jobName", /not a valid job name/],
    ["job name with surrounding space", submit, { jobName: " orders" }, "jobName", /white space/],
    ["empty job name", submit, { jobName: "" }, "jobName", /required/],
    ["job name too long", submit, { jobName: "a".repeat(64) }, "jobName", /limit is 63/],
    ["job name with ##vso[", submit, { jobName: "##vso[task.setvariable variable=x]y" }, "jobName", /logging command/],
    ["job name with a newline", submit, { jobName: "a\nb" }, "jobName", /control character/],
    ["https jar directory", submit, { jobJarDirectory: "https://acct.blob.core.windows.net/jars" }, "jobJarDirectory", /scheme 'https'/],
    ["wasbs jar directory", submit, { jobJarDirectory: "wasbs://jars@acct.blob.core.windows.net/x" }, "jobJarDirectory", /scheme 'wasbs'/],
    ["jar directory without container", submit, { jobJarDirectory: "abfss://acct.dfs.core.windows.net/x" }, "jobJarDirectory", /not an abfs/],
    ["empty jar directory", submit, { jobJarDirectory: "" }, "jobJarDirectory", /required/],
    ["jar name with a folder", submit, { jarName: "lib/a.jar" }, "jarName", /file name only/],
    ["jar name not a jar", submit, { jarName: "a.zip" }, "jarName", /not a \.jar/],
    ["entry class with spaces", submit, { entryClass: "com.x Main" }, "entryClass", /Java class name/],
    ["parallelism not a number", submit, { parallelism: "two" }, "parallelism", /not a whole number/],
    ["parallelism zero", submit, { parallelism: "0" }, "parallelism", /out of range/],
    ["parallelism negative", submit, { parallelism: "-3" }, "parallelism", /out of range/],
    ["parallelism fractional", submit, { parallelism: "1.5" }, "parallelism", /not a whole number/],
    ["savepoint directory over http", submit, { savepointDirectory: "http://x/y" }, "savepointDirectory", /scheme 'http'/],
    ["args with ##vso[", submit, { args: "--x ##vso[task.complete result=Succeeded]" }, "args", /logging command/],
    ["args with a control character", submit, { args: "--a\u0007" }, "args", /control character \(U\+0007\)/],
    ["malformed flinkConfiguration line", submit, { flinkConfiguration: "a=1\nnot a pair" }, "flinkConfiguration", /line 2: "not a pair" is not 'key=value'/],
    ["flinkConfiguration sets parallelism", submit, { flinkConfiguration: "parallelism=3" }, "flinkConfiguration", /'parallelism' input/],
    ["flinkConfiguration JSON nested object", submit, { flinkConfiguration: '{"a": {"b": 1}}' }, "flinkConfiguration", /'a' must be a string, number or boolean, not an object/],
    ["flinkConfiguration broken JSON", submit, { flinkConfiguration: '{"a": 1,\n "b": }' }, "flinkConfiguration", /not a valid JSON object of settings \(line 2\): 'b' has no valid value/],
    ["flinkConfiguration key twice", submit, { flinkConfiguration: "a=1\na=2" }, "flinkConfiguration", /line 2: 'a' is set twice/],
    ["unknown api-version", submit, { apiVersion: "2022-01-01" }, "apiVersion", /not supported/],
    ["timeout zero", submit, { waitTimeoutInMinutes: "0" }, "waitTimeoutInMinutes", /out of range/],
    ["timeout not a number", submit, { waitTimeoutInMinutes: "10m" }, "waitTimeoutInMinutes", /not a whole number/],
    ["polling interval negative", submit, { pollingIntervalInSeconds: "-1" }, "pollingIntervalInSeconds", /out of range/],
    ["waitForCompletion not boolean", submit, { waitForCompletion: "yes" }, "waitForCompletion", /not 'true' or 'false'/],
    ["resource group ending with a dot", submit, { resourceGroupName: "rg." }, "resourceGroupName", /not a resource group name/],
    ["cluster name with underscore", submit, { clusterName: "my_cluster" }, "clusterName", /not a valid name/],
    ["empty cluster pool", submit, { clusterPoolName: "  " }, "clusterPoolName", /required/],
    ["relaunch on 2023-06-01-preview", start, { startMode: "relaunch", apiVersion: "2023-06-01-preview" }, "startMode", /RE_LAUNCH needs apiVersion 2023-11-01-preview/],
    ["savepointName with relaunch", start, { startMode: "relaunch", savepointName: "savepoint-20e9e9-8a48c6b905e5" }, "savepointName", /only when 'startMode' is savepoint/],
    ["savepoint name malformed", start, { savepointName: "my-savepoint" }, "savepointName", /not a savepoint name/],
    ["unknown start mode", start, { startMode: "fresh" }, "startMode", /not one of: savepoint, relaunch/],
  ];
  for (const [title, spec, overrides, input, message] of bad) {
    it(`refuses ${title}, naming '${input}'`, () => {
      assert.throws(
        () => validate(spec, overrides),
        (error: unknown) => error instanceof InputError && error.input === input && message.test(error.message) && error.message.startsWith(`Input '${input}'`),
      );
    });
  }

  it("accepts a savepoint given as a full path, as a stop step reports it", () => {
    const path = "abfss://state@acct.dfs.core.windows.net/sp/savepoint-20e9e9-8a48c6b905e5";
    assert.equal(validate(start, { savepointName: path }).request?.definition.savePointName, path);
  });

  it("reads flinkConfiguration as JSON, numbers and booleans as strings", () => {
    assert.deepEqual(parseFlinkConfiguration("flinkConfiguration", '{"a.b": 2, "c": true, "d": "x"}'), { "a.b": "2", c: "true", d: "x" });
  });
});

describe("flinkConfiguration, the corners", () => {
  it("splits a line at its first separator: `env.java.opts: -Dfoo=bar` keeps the '=' in the value", () => {
    assert.deepEqual(parseFlinkConfiguration("flinkConfiguration", "env.java.opts: -Dfoo=bar\na.b=c: d"), { "env.java.opts": "-Dfoo=bar", "a.b": "c: d" });
  });

  it("a number with a leading zero in JSON is an input error naming the key, not a raw SyntaxError", () => {
    assert.throws(
      () => parseFlinkConfiguration("flinkConfiguration", '{"a": 01}'),
      (error: unknown) => error instanceof InputError && error.input === "flinkConfiguration" && /'a' is a number with a leading zero/.test(error.message),
    );
  });

  it("warns which one wins when parallelism.default is set beside parallelism", () => {
    const task = validate(submit, { parallelism: "4", flinkConfiguration: "parallelism.default=8" });
    assert.equal(task.definition.flinkConfiguration?.["parallelism"], "4");
    assert.equal(task.warnings.length, 1);
    assert.match(task.warnings[0]!, /parallelism\.default=8, but the job runs with parallelism 4 .*which wins over parallelism\.default/);
  });

  it("waitForStatus must be a status the service reports; a typo names its likely meaning", () => {
    assert.throws(
      () => validate(TASKS.FlinkJobStatus, { waitForStatus: "STOPED" }),
      (error: unknown) => error instanceof InputError && error.input === "waitForStatus" && /did you mean STOPPED\?/.test(error.message),
    );
    assert.equal(validate(TASKS.FlinkJobStatus, { waitForStatus: "running" }).waitForStatus, "RUNNING");
  });

  it("target is hdinsightAks unless set, and only a known target is accepted", () => {
    assert.equal(validate(submit, {}).target, "hdinsightAks");
    assert.throws(() => validate(submit, { target: "yarn" }), (error: unknown) => error instanceof InputError && error.input === "target" && /'flinkRest'.*'hdinsightAks'/.test(error.message));
  });

  it("a step with flinkConnection and no azureSubscription means flinkRest (also with the default the agent fills in); with both, the default stays", () => {
    const common = (values: Record<string, string>) => validateCommon(TASKS.FlinkJobStatus, (name) => values[name]);
    assert.equal(common({ flinkConnection: "my-flink" }).target, "flinkRest");
    assert.equal(common({ flinkConnection: "my-flink", azureSubscription: "arm" }).target, "hdinsightAks");
    // The agent fills in the manifest's default for an omitted input: that default alone does not hide a Flink step.
    assert.equal(common({ flinkConnection: "my-flink", target: "hdinsightAks" }).target, "flinkRest");
    assert.equal(common({ azureSubscription: "arm", target: "hdinsightAks" }).target, "hdinsightAks");
    assert.equal(common({}).target, "hdinsightAks");
  });

  it("a mistyped target fails naming the input and the two values, suggesting the near one rather than accepting it", () => {
    const common = (target: string) => validateCommon(TASKS.FlinkJobStatus, (name) => ({ target, flinkConnection: "my-flink" })[name]);
    for (const [typed, meant] of [
      ["flinkrest", "flinkRest"],
      ["flink", "flinkRest"],
      ["FlinkRest", "flinkRest"],
      ["hdinsight", "hdinsightAks"],
    ] as const) {
      assert.throws(
        () => common(typed),
        (error: unknown) =>
          error instanceof InputError && error.input === "target" && error.message.includes("'flinkRest'") && error.message.includes("'hdinsightAks'") && error.message.includes(`Did you mean '${meant}'?`),
        typed,
      );
    }
  });

  it("the job name's and the status's rules speak of Flink on a Flink target, of HDInsight on HDInsight", () => {
    const common = (values: Record<string, string>) => validateCommon(submit, (name) => values[name]);
    assert.throws(
      () => common({ flinkConnection: "my-flink", jobName: "TopSpeed" }),
      (error: unknown) => error instanceof InputError && error.input === "jobName" && !/HDInsight/.test(error.message) && /use "topspeed"/.test(error.message),
    );
    assert.throws(() => common({ jobName: "TopSpeed" }), /HDInsight on AKS job names are lower case/);
    const status = (values: Record<string, string>) => validateCommon(TASKS.FlinkJobStatus, (name) => values[name]);
    assert.throws(() => status({ flinkConnection: "my-flink", jobName: "orders", waitForStatus: "RUN NING" }), /such as RUNNING or FINISHED$/);
    assert.throws(() => status({ jobName: "orders", waitForStatus: "RUN NING" }), /such as RUNNING or STOPPED$/);
  });
});
