/**
 * npm run demo: builds the tasks when dist/ is missing or older than the sources, starts the
 * emulator in this process and runs examples/azure-pipelines.yml through the bundled tasks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Emulator } from "../emulator/index";
import { buildTasks, taskFolders } from "../scripts/build";
import { bundlePath, repoRoot } from "./agent-process";
import { type PipelineFileRun, runPipelineFile } from "./cli";
import { RunLog } from "./log";

export const EXAMPLE_PIPELINE = path.join(repoRoot, "examples", "azure-pipelines.yml");

function newestMtime(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(target).reduce((newest, entry) => Math.max(newest, newestMtime(path.join(target, entry))), stat.mtimeMs);
}

/** Whether any bundle is missing or older than what it is built from. */
export function bundlesAreStale(): boolean {
  const bundles = taskFolders().map(bundlePath);
  if (bundles.some((b) => !fs.existsSync(b))) return true;
  const oldestBundle = Math.min(...bundles.map((b) => fs.statSync(b).mtimeMs));
  const sources = ["src", "tasks", path.join("scripts", "build.ts"), "package-lock.json"].map((p) => path.join(repoRoot, p)).filter((p) => fs.existsSync(p));
  return sources.some((source) => newestMtime(source) > oldestBundle);
}

export interface DemoOptions {
  log?: RunLog;
  /** A running emulator to use (left running); otherwise one is started and stopped. */
  emulator?: Emulator;
  timeScale?: number;
  json?: string;
}

export async function runDemo(options: DemoOptions = {}): Promise<PipelineFileRun> {
  const log = options.log ?? new RunLog();
  if (bundlesAreStale()) {
    log.line("Building the tasks (dist/ is missing or older than the sources) …");
    await buildTasks();
  }
  return runPipelineFile(
    { file: EXAMPLE_PIPELINE, timeScale: options.timeScale ?? 10, variables: {}, json: options.json, arm: undefined },
    { log, ...(options.emulator ? { emulator: options.emulator } : {}) },
  );
}

if (require.main === module) {
  const jsonAt = process.argv.indexOf("--json");
  runDemo(jsonAt > 0 && process.argv[jsonAt + 1] ? { json: process.argv[jsonAt + 1]! } : {}).then(
    ({ exitCode }) => process.exit(exitCode),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
