/**
 * Every YAML example of overview.md (the Marketplace page) and README.md, run as written through
 * the local runner and the bundled tasks. A page's examples follow one job through its life, so
 * they run in page order against one emulator, the way a reader tries them one after the other
 * against `npm run emulator`. The runner creates the clusters and jars each example names.
 * Examples with steps on Flink run against the run's shared Flink cluster of the test bed (the
 * first CI version), a Flink-only one without the emulator, as `npm run pipeline -- x.yml
 * --flink-url …` runs it; where an example's `jarFile` matches nothing the runner places the test
 * bed's sample job and says so. An example that cannot run locally as written is only parsed, and
 * NOT_RUN_HERE says why.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { repoRoot } from "../../pipeline-runner/agent-process";
import { runPipelineFile } from "../../pipeline-runner/cli";
import { RunLog } from "../../pipeline-runner/log";
import { isFlinkRestStep, type PipelineRunResult } from "../../pipeline-runner/runner";
import { planPipelineFile } from "../../pipeline-runner/pipeline";
import { useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";
import { tempDir } from "../harness/temp";

/** Examples only parsed, by a text they hold, and why they cannot run here as written. */
const NOT_RUN_HERE: Array<{ page: string; holds: string; why: string }> = [
  {
    page: "overview.md",
    holds: "savepointDirectory: s3://flink-state/savepoints",
    why: "its savepointDirectory is on S3, which the local Flink cannot write (no S3 filesystem plugin, no bucket)",
  },
];

/** Examples with steps on Flink: `target: flinkRest`, or a flinkConnection alone (the task's own rule). */
const isFlinkRest = (example: Example) => planPipelineFile(writeExample(example)).steps.some((s) => s.task && isFlinkRestStep(s.inputs));
/** Examples with no step on HDInsight on AKS: the runner starts no emulator for them. */
const isFlinkOnly = (example: Example) => planPipelineFile(writeExample(example)).steps.filter((s) => s.task).every((s) => isFlinkRestStep(s.inputs));
const notRunHere = (example: Example) => NOT_RUN_HERE.find((n) => n.page === example.page && example.text.includes(n.holds));

interface Example {
  page: string;
  line: number;
  text: string;
}

function examples(page: string): Example[] {
  const markdown = fs.readFileSync(path.join(repoRoot, page), "utf8");
  const found: Example[] = [];
  const fence = /^```ya?ml[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) found.push({ page, line: markdown.slice(0, m.index).split("\n").length, text: m[1]! });
  return found;
}

const tmp = tempDir("page-examples-");

function writeExample(example: Example): string {
  const file = path.join(tmp, `${example.page.replace(/\W/g, "-")}-${example.line}.yml`);
  fs.writeFileSync(file, example.text);
  return file;
}

for (const page of ["overview.md", "README.md"]) {
  describe(`${page}: every YAML example runs as written, in page order, against one emulator (and one Flink cluster for target: flinkRest)`, function () {
    this.timeout(300_000);
    let emulator: Emulator;
    const workingDirectory = fs.mkdtempSync(path.join(tmp, "workspace-"));
    const blocks = examples(page);
    const flink = blocks.some((b) => isFlinkRest(b) && !notRunHere(b)) ? useSharedFlinkCluster(CI_FLINK_VERSIONS[0]!) : undefined;
    before(async function () {
      emulator = await startEmulator({ port: 0, timeScale: 30 });
      // No jar is placed here: where an example's jarFile matches nothing, the runner places the sample job and says so.
    });
    after(async () => {
      await emulator?.close();
    });

    it("has examples", () => assert.ok(blocks.length >= 1));

    for (const example of blocks) {
      const skip = notRunHere(example);
      if (skip) {
        it(`the example at line ${example.line} parses, and has target: flinkRest steps (not run here: ${skip.why})`, () => {
          const plan = planPipelineFile(writeExample(example));
          assert.ok(plan.steps.some((s) => s.task && isFlinkRestStep(s.inputs)), `${page}:${example.line}`);
        });
        continue;
      }
      it(`the example at line ${example.line} ends Succeeded, every task step Succeeded, and sets the outputs it reads${isFlinkRest(example) ? " (on Flink)" : ""}`, async () => {
        const file = writeExample(example);
        const lines: string[] = [];
        const onFlink = isFlinkRest(example) ? { flinkUrl: flink!.cluster.restUrl, workingDirectory } : {};
        const hadJars = fs.readdirSync(workingDirectory).length > 0;
        // A Flink-only example runs as `npm run pipeline -- x.yml --flink-url …` does: without an emulator.
        const flinkOnly = isFlinkOnly(example);
        const outcome = await runPipelineFile(
          { file, timeScale: 30, variables: {}, json: undefined, arm: undefined, summaryDir: path.join(tmp, `summaries-${example.line}`), ...onFlink },
          { ...(flinkOnly ? {} : { emulator }), log: new RunLog((l) => lines.push(l)) },
        );
        const log = lines.join("\n");
        if (flinkOnly) assert.doesNotMatch(log, /emulator/i, `${page}:${example.line}: a Flink-only pipeline speaks of an emulator\n${log}`);
        if (isFlinkRest(example) && !hadJars && /jarFile:/.test(example.text)) {
          assert.match(log, /the runner placed the test bed's sample job there as .*--working-directory/, `${page}:${example.line}\n${log}`);
        }
        const run = outcome.run as PipelineRunResult;
        assert.equal(outcome.exitCode, 0, `${page}:${example.line}\n${log}`);
        const tasks = run.steps.filter((s) => s.task.includes("@"));
        assert.ok(tasks.length >= 1, log);
        for (const step of tasks) {
          assert.equal(step.result, "Succeeded", `${page}:${example.line}, step ${step.name ?? step.displayName}: ${step.message}\n${log}`);
          // Its run summary is kept where the log says.
          assert.ok(step.summaryFile && fs.readFileSync(step.summaryFile, "utf8").includes("|"), `${page}:${example.line}: no run summary for ${step.displayName}`);
          assert.ok(log.includes(`Run summary: ${step.summaryFile}`), log);
        }
        // `$(step.variable)` the example reads (in scripts, inputs, env) has a value after its run.
        for (const m of example.text.matchAll(/\$\(([A-Za-z_]\w*)\.([A-Za-z_]\w*)\)/g)) {
          const step = tasks.find((s) => s.name === m[1]);
          if (!step) continue;
          assert.ok(step.outputs[m[2]!], `${page}:${example.line}: ${m[0]} is empty after the run`);
        }
        // Each `name: $[ dependencies… ]` job variable gets the value of the job it reads.
        for (const m of example.text.matchAll(/^\s*(\w+):\s*\$\[/gm)) {
          assert.match(log, new RegExp(`variable ${m[1]} = \\$\\[.*\\] → '[^']+'`), `${page}:${example.line}: ${m[1]} has no value\n${log}`);
        }
        assert.doesNotMatch(log, /not supported by the local runner|nothing in /, `${page}:${example.line}`);
        // A macro the runner could not expand is never handed to a task.
        assert.doesNotMatch(log, /is not a variable here/, `${page}:${example.line}`);
      });
    }
  });
}
