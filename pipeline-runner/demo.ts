/**
 * npm run demo: builds the tasks when dist/ is missing or older than the sources, starts the
 * emulator in this process and runs examples/azure-pipelines.yml through the bundled tasks.
 * npm run demo -- --target flink [--flink-url <url>]: runs examples/flink-pipeline.yml against a
 * real Flink cluster (the test bed's, started for the run, or the running one the URL names).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Emulator } from "../emulator/index";
import { buildTasks, taskFolders } from "../scripts/build";
import { bundlePath, repoRoot } from "./agent-process";
import { type PipelineFileRun, runPipelineFile } from "./cli";
import { RunLog } from "./log";
import { type FlinkCluster, startFlinkCluster } from "../testbed/flink/cluster";
import { buildTestJobJars } from "../testbed/flink/job";
import { clusterVersion } from "./sample-jar";
import { CI_FLINK_VERSIONS, SUPPORTED_FLINK_VERSIONS } from "../testbed/flink/versions";

export const EXAMPLE_PIPELINE = path.join(repoRoot, "examples", "azure-pipelines.yml");
export const FLINK_EXAMPLE_PIPELINE = path.join(repoRoot, "examples", "flink-pipeline.yml");
/** Where examples/flink-pipeline.yml's jarFile patterns look, relative to the working directory. */
export const FLINK_DEMO_JARS = { v1: path.join("target", "counting-job-1.0.jar"), v2: path.join("target-v2", "counting-job-2.0.jar") };

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

export interface FlinkDemoOptions {
  log?: RunLog;
  /** A running cluster's REST URL (left running); otherwise the test bed starts one and stops it. */
  flinkUrl?: string;
  json?: string;
}

export async function runFlinkDemo(options: FlinkDemoOptions = {}): Promise<PipelineFileRun & { workingDirectory: string }> {
  const log = options.log ?? new RunLog();
  const progress = (line: string) => log.line(line);
  if (bundlesAreStale()) {
    log.line("Building the tasks (dist/ is missing or older than the sources) …");
    await buildTasks();
  }
  let cluster: FlinkCluster | undefined;
  const workingDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "flink-demo-"));
  try {
    let restUrl = options.flinkUrl;
    let version: string;
    if (restUrl) {
      version = await clusterVersion(restUrl);
      if (!SUPPORTED_FLINK_VERSIONS.includes(version)) throw new Error(`the cluster at ${restUrl} runs Flink ${version}; the demo's job jars build for ${SUPPORTED_FLINK_VERSIONS.join(", ")}`);
    } else {
      version = CI_FLINK_VERSIONS[0]!;
      log.line(`Starting a Flink ${version} session cluster on 127.0.0.1 (the test bed installs Flink from PyPI on first use) …`);
      cluster = await startFlinkCluster({ version, log: progress });
      restUrl = cluster.restUrl;
    }
    const jars = await buildTestJobJars(version, { log: progress });
    for (const [build, relative] of Object.entries(FLINK_DEMO_JARS)) {
      fs.mkdirSync(path.dirname(path.join(workingDirectory, relative)), { recursive: true });
      fs.copyFileSync(jars[build as keyof typeof FLINK_DEMO_JARS], path.join(workingDirectory, relative));
    }
    log.line(`Created for this run:`);
    if (cluster) log.line(`  a Flink ${version} session cluster at ${cluster.restUrl} (stopped at the end; savepoints in ${cluster.savepointDir})`);
    else log.line(`  nothing on the cluster at ${restUrl} (Flink ${version}) but what the pipeline's steps do`);
    log.line(`  the working directory ${workingDirectory} (removed at the end), holding the test bed's CountingJob:`);
    log.line(`    ${FLINK_DEMO_JARS.v1} (v1) and ${FLINK_DEMO_JARS.v2} (v2, same state, for the update)`);
    const run = await runPipelineFile({ file: FLINK_EXAMPLE_PIPELINE, timeScale: 10, variables: {}, json: options.json, arm: undefined, flinkUrl: restUrl, workingDirectory }, { log });
    return { ...run, workingDirectory };
  } finally {
    fs.rmSync(workingDirectory, { recursive: true, force: true });
    await cluster?.stop();
  }
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

if (require.main === module) {
  const json = argument("--json");
  const target = argument("--target");
  const flinkUrl = argument("--flink-url");
  if ((target !== undefined && target !== "flink" && target !== "emulator") || (flinkUrl !== undefined && target !== "flink")) {
    process.stderr.write("Usage: npm run demo [-- --json <file>]\n       npm run demo -- --target flink [--flink-url <url>] [--json <file>]\n");
    process.exit(2);
  }
  (target === "flink" ? runFlinkDemo({ ...(json ? { json } : {}), ...(flinkUrl ? { flinkUrl } : {}) }) : runDemo(json ? { json } : {})).then(
    ({ exitCode }) => process.exit(exitCode),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
