/**
 * The Flink REST part of `npm run bench`: against one real Flink cluster of the test bed, the same
 * lifecycle (submit, stop with a savepoint, start from it, cancel) by our bundled tasks (spawned in
 * the agent's environment), by Flink's own `bin/flink` CLI and by a plain 30 s poller
 * (baseline-flink-poller.js); and the Flink path's cold start to its first request.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { agentEnvironment, type ConnectionEnv, parseRun } from "../../pipeline-runner/agent-process";
import { flinkRestConnection } from "../../pipeline-runner/connection";
import { type FlinkCluster, startFlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars } from "../../testbed/flink/job";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";
import { type ChildRun, runChild } from "./process";
import { type Stat, stat } from "./stats";

export type FlinkSide = "ours" | "cli" | "poller";
export type FlinkAction = "submit" | "stop" | "start" | "cancel";
export const FLINK_SIDES: Record<FlinkSide, string> = { ours: "our tasks", cli: "bin/flink CLI", poller: "30 s poller" };
const ACTIONS: FlinkAction[] = ["submit", "stop", "start", "cancel"];

export interface FlinkActionRun {
  side: FlinkSide;
  action: FlinkAction;
  /** Spawn to exit: when the pipeline's next step could start. */
  exitMs: number;
  /** Spawn to the job RUNNING with every task running, as a 100 ms watcher in the bench sees it (submit, start). */
  runningMs?: number;
  peakRssBytes: number | undefined;
}

export interface FlinkBenchResults {
  version: string;
  coldStart: { runs: number; bareNodeMs: Stat; firstRequestMs: Stat; firstRoutes: string[] };
  actions: FlinkActionRun[];
}

const COLD_START_RUNS = 9;
const BASELINE = path.join(__dirname, "baseline-flink-poller.js");

/** Cold start of the Flink path: the bundled FlinkJobStatus with target flinkRest, to its first request, beside bare node. */
async function coldStart(bundle: (task: string) => string, log: (m: string) => void): Promise<FlinkBenchResults["coldStart"]> {
  log(`Flink cold start: ${COLD_START_RUNS} rounds (plus one warm-up) of bare node and FlinkJobStatus with target flinkRest`);
  let first: { at: number; route: string } | undefined;
  const server = http.createServer((req, res) => {
    first ??= { at: Date.now(), route: req.url ?? "" };
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "flink-bench-cold-"));
  try {
    const env = agentEnv(flinkRestConnection(url).connection, { jobName: "bench-cold-start" }, cwd);
    const bare: number[] = [];
    const firstMs: number[] = [];
    const routes: string[] = [];
    for (let round = 0; round <= COLD_START_RUNS; round++) {
      const b = (await runChild(process.execPath, ["-e", "0"])).wallMs;
      first = undefined;
      const stop = new AbortController();
      const watch = setInterval(() => first && stop.abort(), 2);
      const run = await runChild(process.execPath, [bundle("FlinkJobStatus")], { env, cwd, signal: stop.signal, timeoutMs: 60_000 });
      clearInterval(watch);
      if (!first) throw new Error(`FlinkJobStatus (flinkRest) made no request:\n${run.stdout}\n${run.stderr}`);
      if (round === 0) continue;
      bare.push(b);
      firstMs.push((first as { at: number }).at - run.spawnedAt);
      routes.push((first as { route: string }).route);
    }
    return { runs: COLD_START_RUNS, bareNodeMs: stat(bare), firstRequestMs: stat(firstMs), firstRoutes: routes };
  } finally {
    server.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

function agentEnv(connection: ConnectionEnv, inputs: Record<string, string>, cwd: string): Record<string, string> {
  return agentEnvironment(
    { task: "", inputs: { target: "flinkRest", flinkConnection: connection.id, ...inputs }, extraConnections: [connection], env: { SYSTEM_DEFAULTWORKINGDIRECTORY: cwd } },
    cwd,
  );
}

interface JobOverview {
  jid: string;
  name: string;
  state: string;
  tasks: Record<string, number>;
}

/** Watches GET /jobs/overview every 100 ms for a new job of this name RUNNING with all its tasks running. */
function watchRunning(restUrl: string, jobName: string, known: Set<string>, since: () => number): { seenMs(): number | undefined; stop(): void } {
  let seen: number | undefined;
  let stopped = false;
  void (async () => {
    while (!stopped && seen === undefined) {
      try {
        const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: JobOverview[] };
        const job = jobs.find((j) => j.name === jobName && !known.has(j.jid) && j.state === "RUNNING" && j.tasks["running"] === j.tasks["total"]);
        if (job) seen = Date.now() - since();
      } catch {
        // The next read tells.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { seenMs: () => seen, stop: () => void (stopped = true) };
}

async function jobIds(restUrl: string): Promise<Set<string>> {
  const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: JobOverview[] };
  return new Set(jobs.map((j) => j.jid));
}

async function lifecycle(side: FlinkSide, cluster: FlinkCluster, jar: string, bundle: (task: string) => string, log: (m: string) => void): Promise<FlinkActionRun[]> {
  const jobName = `bench-${side}`;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `flink-bench-${side}-`));
  fs.copyFileSync(jar, path.join(cwd, "job.jar"));
  const connection = flinkRestConnection(cluster.restUrl).connection;
  const flinkBin = path.join(cluster.home, "bin", "flink");
  const cliEnv = { ...process.env, FLINK_LOG_DIR: cwd } as Record<string, string>;
  const address = ["-m", `127.0.0.1:${cluster.restPort}`];
  let jobId = "";
  let savepoint = "";
  const runs: FlinkActionRun[] = [];
  try {
    for (const action of ACTIONS) {
      const known = await jobIds(cluster.restUrl);
      let spawnedAt = Date.now();
      const watcher = action === "submit" || action === "start" ? watchRunning(cluster.restUrl, jobName, known, () => spawnedAt) : undefined;
      let run: ChildRun;
      const options = { cwd, memoryPollMs: 50, timeoutMs: 240_000 };
      if (side === "ours") {
        const task = { submit: "FlinkJobSubmit", stop: "FlinkJobStop", start: "FlinkJobStart", cancel: "FlinkJobCancel" }[action];
        const inputs: Record<string, string> = { jobName, ...(action === "submit" ? { jarFile: "job.jar" } : {}), ...(action === "start" ? { startMode: "savepoint", savepointName: savepoint } : {}) };
        spawnedAt = Date.now();
        run = await runChild(process.execPath, [bundle(task)], { ...options, env: agentEnv(connection, inputs, cwd) });
        const parsed = parseRun(run.stdout, run.stderr);
        if (parsed.result !== "Succeeded") throw new Error(`ours ${action}: ${parsed.result} ${parsed.resultMessage}\n${run.stdout.slice(-3000)}`);
        jobId = parsed.outputs["jobId"] ?? jobId;
        savepoint = parsed.outputs["savepointPath"] ?? savepoint;
      } else if (side === "cli") {
        const args = {
          submit: ["run", "-d", ...address, "job.jar", "--job-name", jobName],
          stop: ["stop", ...address, "--savepointPath", cluster.savepointDirUri, jobId],
          start: ["run", "-d", ...address, "-s", savepoint, "job.jar", "--job-name", jobName],
          cancel: ["cancel", ...address, jobId],
        }[action];
        spawnedAt = Date.now();
        run = await runChild(flinkBin, args, { ...options, env: cliEnv });
        if (run.exitCode !== 0) throw new Error(`bin/flink ${args.join(" ")}: exit ${run.exitCode}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
        jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)?.[1] ?? jobId;
        savepoint = /Savepoint completed\. Path: (\S+)/.exec(run.stdout)?.[1] ?? savepoint;
      } else {
        const env = { ...process.env, FLINK_URL: cluster.restUrl, ACTION: action, JAR: path.join(cwd, "job.jar"), JOB_NAME: jobName, JOB_ID: jobId, SAVEPOINT: savepoint } as Record<string, string>;
        spawnedAt = Date.now();
        run = await runChild(process.execPath, [BASELINE], { ...options, env });
        if (run.exitCode !== 0) throw new Error(`poller ${action}: exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`);
        jobId = /jobId=(\S+)/.exec(run.stdout)?.[1] ?? jobId;
        savepoint = /savepoint=(\S+)/.exec(run.stdout)?.[1] ?? savepoint;
      }
      if (watcher) {
        // The CLI returns once Flink accepted the job: wait (bounded) for the watcher to see it RUNNING.
        for (let i = 0; i < 600 && watcher.seenMs() === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 100));
        watcher.stop();
      }
      const runningMs = watcher?.seenMs();
      runs.push({ side, action, exitMs: run.wallMs, ...(runningMs !== undefined ? { runningMs } : {}), peakRssBytes: run.peakRssBytes });
      log(`  ${FLINK_SIDES[side]} ${action}: exit ${Math.round(run.wallMs)} ms${runningMs !== undefined ? `, RUNNING seen at ${runningMs} ms` : ""}`);
      if ((action === "stop" && !savepoint) || (action === "submit" && !jobId)) throw new Error(`${side} ${action}: no ${action === "stop" ? "savepoint" : "job id"} in its output`);
    }
    return runs;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

export async function measureFlink(bundle: (task: string) => string, log: (m: string) => void): Promise<FlinkBenchResults> {
  const cold = await coldStart(bundle, log);
  const version = CI_FLINK_VERSIONS[0]!;
  log(`Flink ${version}: starting one cluster (the test bed) for our tasks, bin/flink and the 30 s poller`);
  const jars = await buildTestJobJars(version);
  const cluster = await startFlinkCluster({ version });
  try {
    const actions: FlinkActionRun[] = [];
    for (const side of Object.keys(FLINK_SIDES) as FlinkSide[]) {
      log(`Flink lifecycle by ${FLINK_SIDES[side]}`);
      actions.push(...(await lifecycle(side, cluster, jars.v1, bundle, log)));
    }
    return { version, coldStart: cold, actions };
  } finally {
    await cluster.stop();
  }
}

export const FLINK_COLD_START_RATIO = 3;
const MB = 1_000_000;
const ms = (v: number | undefined) => (v === undefined ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
const mib = (b: number | undefined) => (b === undefined ? "–" : `${(b / 1024 / 1024).toFixed(0)} MiB`);

/** The "Apache Flink REST" section of docs/performance.md. */
export function renderFlinkSection(r: FlinkBenchResults, bundles: { task: string; bytes: number }[]): string {
  const out: string[] = [];
  const cs = r.coldStart;
  const ratio = cs.firstRequestMs.median / cs.bareNodeMs.median;
  out.push("## Apache Flink REST (`target: flinkRest`) on a real Flink", "");
  out.push(
    `One Flink ${r.version} session cluster of the test bed (testbed/flink: one JobManager, one TaskManager on 127.0.0.1), the same ` +
      "job jar (the test bed's CountingJob), one lifecycle after the other: submit, stop with a savepoint, start from that savepoint, cancel. " +
      "**Our tasks**: the bundled FlinkJobSubmit, FlinkJobStop, FlinkJobStart and FlinkJobCancel spawned in the agent's environment " +
      "(an ApacheFlink connection, scheme None; default polling inputs). **bin/flink CLI**: Flink's own client from the test bed's FLINK_HOME " +
      "(`run -d`, `stop --savepointPath`, `run -d -s`, `cancel`, with `-m 127.0.0.1:<port>`). **30 s poller**: scripts/bench/baseline-flink-poller.js, " +
      "the plain script (upload, run, then read the job or the savepoint trigger every 30 s). Exit is spawn to the process's exit, when a pipeline's " +
      "next step could start; RUNNING is spawn to the moment a watcher in the benchmark (GET /jobs/overview every 100 ms) sees the new job RUNNING " +
      "with every task running. `bin/flink run -d` returns once Flink accepted the job, which need not be RUNNING yet: a step is done at the later of the two. " +
      "Peak memory is the process's VmHWM (for the CLI, its JVM).",
    "",
  );
  const head = ["Action", ...(Object.values(FLINK_SIDES) as string[]).flatMap((s) => [`${s}: exit`, `${s}: RUNNING`, `${s}: peak RSS`])];
  const rows = ACTIONS.map((action) => [
    action === "stop" ? "stop (savepoint complete)" : action === "start" ? "start from the savepoint" : action,
    ...(Object.keys(FLINK_SIDES) as FlinkSide[]).flatMap((side) => {
      const run = r.actions.find((a) => a.side === side && a.action === action);
      return [ms(run?.exitMs), ms(run?.runningMs), mib(run?.peakRssBytes)];
    }),
  ]);
  out.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`), "");
  const behind = ACTIONS.filter((action) => {
    const done = (side: FlinkSide) => {
      const run = r.actions.find((a) => a.side === side && a.action === action);
      return run ? Math.max(run.exitMs, run.runningMs ?? 0) : Infinity;
    };
    return done("ours") > done("cli");
  });
  out.push(
    behind.length
      ? `Goal "ahead of the CLI on every action" (step done = the later of exit and RUNNING): **not met** for ${behind.join(", ")} in this run.`
      : 'Goal "ahead of the CLI on every action" (step done = the later of exit and RUNNING): met in this run.',
    "",
  );
  out.push(
    `**Cold start of the Flink path**: the bundled FlinkJobStatus with \`target: flinkRest\`, spawned ${cs.runs} times (after one warm-up) in turn with bare ` +
      `\`node -e 0\`, to its first request (${[...new Set(cs.firstRoutes)].join(", ")}) at a local HTTP server: ${ms(cs.firstRequestMs.median)} ` +
      `(${ms(cs.firstRequestMs.min)}–${ms(cs.firstRequestMs.max)}) against bare node's ${ms(cs.bareNodeMs.median)} (${ms(cs.bareNodeMs.min)}–${ms(cs.bareNodeMs.max)}): ` +
      `**${ratio.toFixed(2)}×**, target ≤ ${FLINK_COLD_START_RATIO}×: ${ratio <= FLINK_COLD_START_RATIO ? "met" : "**not met**"}.`,
    "",
  );
  const over = bundles.filter((b) => b.bytes > MB);
  out.push(
    `**Bundle sizes with both backends** (table "Sizes" above): ${over.length ? `over 1 MB: ${over.map((b) => `${b.task} (${(b.bytes / MB).toFixed(3)} MB)`).join(", ")}; ` : "every bundle is ≤ 1 MB; "}` +
      `largest ${bundles.reduce((a, b) => (b.bytes > a.bytes ? b : a)).task}.`,
    "",
  );
  return out.join("\n");
}
