import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { repoRoot } from "../../pipeline-runner/agent-process";
import { parseCliArgs, runPipelineFile, UsageError } from "../../pipeline-runner/cli";
import { RunLog } from "../../pipeline-runner/log";
import type { PipelineRunResult } from "../../pipeline-runner/runner";
import { tempDir } from "../harness/temp";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";

const tmp = tempDir("pipeline-cli-");
function writePipeline(name: string, yaml: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, yaml);
  return file;
}

const CLUSTER = `      resourceGroupName: $(rg)\n      clusterPoolName: flinkpool\n      clusterName: flinkcluster\n`;
const VARIABLES = `variables:\n  - name: conn\n    value: my-arm-connection\n  - name: rg\n    value: flink-emulator-rg\n`;

describe("pipeline runner: command line", function () {
  this.timeout(120_000);

  describe("options", () => {
    it("defaults to the emulator at time scale 10 and reads --var, --debug, --json", () => {
      const o = parseCliArgs(["p.yml", "--var", "a=b=c", "--var=x=1", "--debug", "--json", "out.json", "--time-scale", "5"]);
      assert.deepEqual(o, { file: "p.yml", timeScale: 5, variables: { a: "b=c", x: "1", "System.Debug": "true" }, json: "out.json", arm: undefined });
      assert.equal(parseCliArgs(["p.yml", "--emulator"]).timeScale, 10);
    });

    it("takes a real ARM endpoint with the secret's environment variable, never the secret", () => {
      const o = parseCliArgs(["p.yml", "--arm-url", "https://management.azure.com", "--tenant-id", "t", "--client-id", "c", "--client-secret-env", "ARM_SECRET", "--subscription-id", "s", "--ca-file", "ca.pem"]);
      // The tasks run in a temporary folder, so a relative CA file is made absolute here.
      assert.deepEqual(o.arm, { armUrl: "https://management.azure.com", tenantId: "t", clientId: "c", clientSecretEnv: "ARM_SECRET", subscriptionId: "s", caFile: path.resolve("ca.pem") });
      assert.throws(() => parseCliArgs(["p.yml", "--client-secret", "hunter2"]), (e: unknown) => e instanceof UsageError && /environment variable/.test(e.message));
      assert.throws(() => parseCliArgs(["p.yml", "--arm-url", "https://x"]), /also needs --tenant-id, --client-id, --client-secret-env, --subscription-id/);
      assert.throws(() => parseCliArgs(["p.yml", "--emulator", "--arm-url", "https://x", "--tenant-id", "t", "--client-id", "c", "--client-secret-env", "V", "--subscription-id", "s"]), /alternatives/);
      assert.throws(() => parseCliArgs([]), /name the pipeline file/);
      assert.throws(() => parseCliArgs(["p.yml", "--bogus"]), /unknown option --bogus/);
      assert.throws(() => parseCliArgs(["p.yml", "--time-scale", "0"]), /positive number/);
    });

    it("takes --flink-url for target: flinkRest steps and --working-directory (made absolute); a flinkRest step without --flink-url or flinkConnection fails saying which", async () => {
      const o = parseCliArgs(["p.yml", "--flink-url", "http://127.0.0.1:8081", "--working-directory", "ws"]);
      assert.equal(o.flinkUrl, "http://127.0.0.1:8081");
      assert.equal(o.workingDirectory, path.resolve("ws"));
      assert.throws(() => parseCliArgs(["p.yml", "--flink-url", "127.0.0.1:8081"]), /--flink-url takes the cluster's http\(s\) REST URL/);
      const file = writePipeline(
        "flink-no-url.yml",
        "steps:\n  - task: FlinkJobStatus@1\n    name: a\n    inputs:\n      target: flinkRest\n      flinkConnection: flink-prod\n" +
          "  - task: FlinkJobStatus@1\n    name: b\n    condition: always()\n    inputs:\n      target: flinkRest\n",
      );
      const lines: string[] = [];
      const outcome = await runPipelineFile({ file, timeScale: 10, variables: {}, json: undefined, arm: undefined }, { log: new RunLog((l) => lines.push(l)) });
      assert.equal(outcome.exitCode, 1, lines.join("\n"));
      const [a, b] = outcome.run!.steps;
      assert.match(a!.message, /runs on a Flink cluster \(target: flinkRest\): give the Flink cluster's REST URL with --flink-url/);
      assert.match(b!.message, /Input required: flinkConnection/);
    });

    it("fails with exit 2 when the secret's variable is empty, before starting anything", async () => {
      const file = writePipeline("arm.yml", `steps:\n  - task: FlinkJobStatus@1\n    inputs: { azureSubscription: x }\n`);
      const lines: string[] = [];
      const o = parseCliArgs([file, "--arm-url", "https://127.0.0.1:9", "--tenant-id", "t", "--client-id", "c", "--client-secret-env", "NO_SUCH_SECRET_VAR", "--subscription-id", "s"]);
      const { exitCode } = await runPipelineFile(o, { log: new RunLog((l) => lines.push(l)), env: {} });
      assert.equal(exitCode, 2);
      assert.match(lines.join("\n"), /the environment variable NO_SUCH_SECRET_VAR \(--client-secret-env\) is empty or not set/);
    });
  });

  it("as npm run pipeline: starts its own emulator, exits 1 when a step fails, writes the JSON", () => {
    const file = writePipeline(
      "missing.yml",
      `${VARIABLES}steps:\n  - task: FlinkJobStatus@1\n    name: status\n    inputs:\n      azureSubscription: $(conn)\n${CLUSTER}      jobName: no-such-job\n  - task: FlinkJobSubmit@1\n    name: submit\n    condition: always()\n    inputs:\n      azureSubscription: $(conn)\n${CLUSTER}      jobName: $(name)\n      jobJarDirectory: abfs://jars@flinkemulatorstore.dfs.core.windows.net/jars\n      jarName: FlinkJobDemo-1.0-SNAPSHOT.jar\n      entryClass: org.example.SleepJob\n      waitForCompletion: false\n`,
    );
    const jsonFile = path.join(tmp, "missing.json");
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "pipeline-runner", "cli.ts"), file, "--var", "name=from-cli", "--json", jsonFile], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 100_000,
    });
    assert.equal(child.status, 1, `${child.stdout}\n${child.stderr}`);
    const run = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as PipelineRunResult & { connection: string };
    assert.equal(run.result, "Failed");
    assert.match(run.connection, /^the embedded emulator at https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(run.steps.map((s) => [s.name, s.result]), [["status", "Failed"], ["submit", "Succeeded"]]);
    assert.match(run.steps[0]!.message, /no-such-job/);
    assert.equal(run.steps[1]!.outputs["actionResult"], "IN_PROGRESS");
    assert.equal(run.steps[1]!.inputs["jobName"], "from-cli");
    assert.equal(run.steps[1]!.inputs["azureSubscription"], "my-arm-connection");
    assert.match(child.stdout, /ERROR: .*no-such-job/);
    assert.match(child.stdout, /Pipeline Failed in/);
  });

  it("exits 2 naming the problem when the file cannot be planned", () => {
    const file = writePipeline("bad.yml", "steps:\n  - task: FlinkJobStop@3\n");
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "pipeline-runner", "cli.ts"), file], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
    assert.equal(child.status, 2);
    assert.match(child.stdout, /FlinkJobStop@3 asks for version 3, but this extension's FlinkJobStop is version 1/);
  });

  describe("against the emulator, text from the service", () => {
    let emulator: Emulator;
    before(async () => {
      emulator = await startEmulator({ port: 0, timeScale: 10 });
    });
    after(async () => emulator?.close());

    it("--arm-url and friends reach a real-ARM-shaped endpoint with the secret from the environment, never logging it", async () => {
      const file = writePipeline(
        "arm-ok.yml",
        `${VARIABLES}steps:\n  - task: FlinkJobStatus@1\n    name: status\n    inputs:\n      azureSubscription: $(conn)\n${CLUSTER}`,
      );
      const secret = emulator.servicePrincipal.clientSecret;
      const options = parseCliArgs([
        file, "--debug",
        "--arm-url", emulator.armUrl, "--tenant-id", emulator.tenantId, "--client-id", emulator.servicePrincipal.clientId,
        "--client-secret-env", "FLINK_ARM_SECRET", "--subscription-id", emulator.subscriptionId,
        "--authority-host", emulator.authorityHost, "--ca-file", path.relative(process.cwd(), emulator.caCertPath),
      ]);
      assert.ok(!path.isAbsolute(path.relative(process.cwd(), emulator.caCertPath)), "the test gives a relative --ca-file");
      const lines: string[] = [];
      const { exitCode, run } = await runPipelineFile(options, { log: new RunLog((l) => lines.push(l)), env: { FLINK_ARM_SECRET: secret } });
      const log = lines.join("\n");
      assert.equal(exitCode, 0, log);
      assert.equal(run!.steps[0]!.outputs["jobCount"], String(emulator.jobs.list().length));
      assert.ok(emulator.log.entries({ route: "token" }).length > 0, "the task got its token from the authority host given");
      assert.match(log, /DEBUG: /, "debug mode was on");
      assert.ok(!log.includes(secret), "the secret is not in the log");
    });

    it("--emulator-url uses a running emulator: its connection from /_emulator/info, the pipeline's cluster and jar created there, its jobs kept across runs", async () => {
      const submit = writePipeline(
        "running-submit.yml",
        `steps:\n  - task: FlinkJobSubmit@1\n    name: submit\n    inputs:\n      azureSubscription: any-name\n      resourceGroupName: rg-elsewhere\n      clusterPoolName: pool-b\n      clusterName: cluster-b\n      jobName: kept\n      jobJarDirectory: abfss://jars@other.dfs.core.windows.net/jobs\n      jarName: kept-2.0.jar\n      entryClass: com.contoso.Kept\n`,
      );
      const status = writePipeline(
        "running-status.yml",
        `steps:\n  - task: FlinkJobStatus@1\n    name: status\n    inputs: { azureSubscription: any-name, resourceGroupName: rg-elsewhere, clusterPoolName: pool-b, clusterName: cluster-b, jobName: kept }\n`,
      );
      const args = ["--emulator-url", emulator.url, "--ca-file", path.relative(process.cwd(), emulator.caCertPath)];
      const lines: string[] = [];
      const first = await runPipelineFile(parseCliArgs([submit, ...args]), { log: new RunLog((l) => lines.push(l)) });
      assert.equal(first.exitCode, 0, lines.join("\n"));
      assert.match(lines.join("\n"), /The emulator serves what this pipeline names:\n {2}cluster cluster-b in pool pool-b, resource group rg-elsewhere\n {2}jar abfss:\/\/jars@other\.dfs\.core\.windows\.net\/jobs\/kept-2\.0\.jar/);
      assert.ok(emulator.clusters.list().some((c) => c.cluster === "cluster-b" && c.resourceGroup === "rg-elsewhere"));
      const again = await runPipelineFile(parseCliArgs([status, ...args]), { log: new RunLog(() => undefined) });
      assert.equal(again.exitCode, 0);
      assert.equal(again.run!.steps[0]!.outputs["jobStatus"], "RUNNING", "the job submitted by the first run is still there");
      // Each cluster has its own jobs: the default cluster does not see it.
      assert.ok(!emulator.jobs.list().some((j) => j.properties.jobName === "kept"));
      const refused = await runPipelineFile(parseCliArgs([status, "--emulator-url", "https://127.0.0.1:9", "--ca-file", emulator.caCertPath]), { log: new RunLog((l) => lines.push(l)) });
      assert.equal(refused.exitCode, 2);
      assert.match(lines.join("\n"), /ERROR: no emulator answers at https:\/\/127\.0\.0\.1:9 \(start it with npm run emulator\)/);
    });

    it("a ##vso[ line in the cluster's output is neither executed nor echoed raw", async () => {
      emulator.faults.add({
        kind: "actionFail",
        action: "NEW",
        jobName: "injected",
        jobOutput: "Job failed.\n##vso[task.setvariable variable=jobStatus;isOutput=true]HACKED\n##vso[task.complete result=Succeeded;]all good",
      } as never);
      const file = writePipeline(
        "inject.yml",
        `${VARIABLES}steps:\n  - task: FlinkJobSubmit@1\n    name: submit\n    inputs:\n      azureSubscription: $(conn)\n${CLUSTER}      jobName: injected\n      jobJarDirectory: abfs://jars@flinkemulatorstore.dfs.core.windows.net/jars\n      jarName: FlinkJobDemo-1.0-SNAPSHOT.jar\n      entryClass: org.example.SleepJob\n  - script: echo $(submit.jobStatus)\n    condition: always()\n`,
      );
      const lines: string[] = [];
      const { exitCode, run } = await runPipelineFile(parseCliArgs([file]), { emulator, log: new RunLog((l) => lines.push(l)) });
      const log = lines.join("\n");
      assert.equal(exitCode, 1, log);
      const submit = run!.steps[0]!;
      assert.equal(submit.result, "Failed");
      assert.equal(submit.outputs["actionResult"], "FAILED");
      assert.notEqual(submit.outputs["jobStatus"], "HACKED");
      assert.match(log, /Job failed\./, "the cluster's text is shown");
      assert.doesNotMatch(log, /##vso\[/i);
      assert.doesNotMatch(log, /\| echo HACKED/);
    });
  });
});

describe("npm run flink -- start and the README", () => {
  it("agree on the Flink version started by default (the one the Flink demo uses)", () => {
    const run = spawnSync(process.execPath, ["-r", "tsx/cjs", path.join(repoRoot, "testbed", "flink", "cli.ts"), "start", "--no-such-flag"], { encoding: "utf8" });
    const started = /start and job-jar default to (\S+?)\)/.exec(run.stderr)?.[1];
    assert.equal(started, CI_FLINK_VERSIONS[0], run.stderr);
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
    assert.match(readme, new RegExp(`npm run flink -- start\` \\| starts a real Flink session cluster on 127\\.0\\.0\\.1 \\(${started!.replace(/\./g, "\\.")} by default`));
    assert.ok(readme.includes(`starts Flink ${started}`), "the runner's section names another version");
  });
});
