/**
 * Every YAML example of overview.md (the Marketplace page) and README.md, run as written through
 * the local runner and the bundled tasks. A page's examples follow one job through its life, so
 * they run in page order against one emulator, the way a reader tries them one after the other
 * against `npm run emulator`. The runner creates the clusters and jars each example names.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { repoRoot } from "../../pipeline-runner/agent-process";
import { runPipelineFile } from "../../pipeline-runner/cli";
import { RunLog } from "../../pipeline-runner/log";
import type { PipelineRunResult } from "../../pipeline-runner/runner";

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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "page-examples-"));

for (const page of ["overview.md", "README.md"]) {
  describe(`${page}: every YAML example runs as written, in page order, against one emulator`, function () {
    this.timeout(300_000);
    let emulator: Emulator;
    before(async () => {
      emulator = await startEmulator({ port: 0, timeScale: 30 });
    });
    after(async () => emulator?.close());

    const blocks = examples(page);
    it("has examples", () => assert.ok(blocks.length >= 1));

    for (const example of blocks) {
      it(`the example at line ${example.line} ends Succeeded, every task step Succeeded, and sets the outputs it reads`, async () => {
        const file = path.join(tmp, `${page.replace(/\W/g, "-")}-${example.line}.yml`);
        fs.writeFileSync(file, example.text);
        const lines: string[] = [];
        const outcome = await runPipelineFile({ file, timeScale: 30, variables: {}, json: undefined, arm: undefined, summaryDir: path.join(tmp, `summaries-${example.line}`) }, { emulator, log: new RunLog((l) => lines.push(l)) });
        const log = lines.join("\n");
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
