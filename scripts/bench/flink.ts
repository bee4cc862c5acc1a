/**
 * The Flink REST part of `npm run bench`: against one real Flink cluster of the test bed, the same
 * lifecycle (submit, stop with a savepoint, start from it, cancel), several times, by our bundled
 * tasks (spawned in the agent's environment), by Flink's own `bin/flink` CLI and by the floor, a
 * minimal REST script polling every 100 ms (flink-rest-floor.js); a chart of the step times; and
 * the Flink path's cold start to its first request.
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

export type FlinkSide = "ours" | "cli" | "floor";
export type FlinkAction = "submit" | "stop" | "start" | "cancel";
export const FLINK_SIDES: Record<FlinkSide, string> = { ours: "our tasks", cli: "bin/flink CLI", floor: "REST floor (100 ms)" };
const ACTIONS: FlinkAction[] = ["submit", "stop", "start", "cancel"];
/** Lifecycles per side (each action measured this many times). */
export const FLINK_RUNS = 5;
/** The targets for our tasks on Flink (issue 20). */
export const FLINK_TARGETS = { coldStartRatio: 2, submitRunningMs: 1500, exitAfterDoneMs: 500 };

export interface FlinkActionRun {
  side: FlinkSide;
  action: FlinkAction;
  /** Spawn to exit: when the pipeline's next step could start. */
  exitMs: number;
  /** Spawn to the job RUNNING with every task running, as a 50 ms watcher in the bench sees it (submit, start). */
  runningMs?: number;
  /** Spawn to the moment the watcher sees Flink report the action done: RUNNING (submit, start), FINISHED after the savepoint (stop), CANCELED (cancel). */
  doneMs?: number;
  peakRssBytes: number | undefined;
}

export interface FlinkBenchResults {
  version: string;
  coldStart: { runs: number; bareNodeMs: Stat; firstRequestMs: Stat; firstRoutes: string[] };
  actions: FlinkActionRun[];
}

const COLD_START_RUNS = 9;
const FLOOR = path.join(__dirname, "flink-rest-floor.js");
/** What a pipeline step starts with: the agent's variables, nothing of this machine's (NODE_EXTRA_CA_CERTS adds ~100 ms to every start). */
export const CLEAN_ENV = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? os.tmpdir() };

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
      const b = (await runChild(process.execPath, ["-e", "0"], { env: CLEAN_ENV })).wallMs;
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

/**
 * Watches GET /jobs/overview every 50 ms for the moment Flink reports the action done: a new job of
 * this name RUNNING with all its tasks running (submit, start), or the job in `endState`.
 */
function watchDone(restUrl: string, done: (jobs: JobOverview[]) => boolean, since: () => number): { seenMs(): number | undefined; stop(): void } {
  let seen: number | undefined;
  let stopped = false;
  void (async () => {
    while (!stopped && seen === undefined) {
      try {
        const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: JobOverview[] };
        if (done(jobs)) seen = Date.now() - since();
      } catch {
        // The next read tells.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { seenMs: () => seen, stop: () => void (stopped = true) };
}

async function jobIds(restUrl: string): Promise<Set<string>> {
  const { jobs } = (await (await fetch(`${restUrl}/jobs/overview`)).json()) as { jobs: JobOverview[] };
  return new Set(jobs.map((j) => j.jid));
}

async function lifecycle(side: FlinkSide, round: number, cluster: FlinkCluster, jar: string, bundle: (task: string) => string, log: (m: string) => void): Promise<FlinkActionRun[]> {
  const jobName = `bench-${side}-${round}`;
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
      const starts = action === "submit" || action === "start";
      const target = jobId;
      const watcher = watchDone(
        cluster.restUrl,
        starts
          ? (jobs) => jobs.some((j) => j.name === jobName && !known.has(j.jid) && j.state === "RUNNING" && j.tasks["total"]! > 0 && j.tasks["running"] === j.tasks["total"])
          : (jobs) => jobs.some((j) => j.jid === target && j.state === (action === "stop" ? "FINISHED" : "CANCELED")),
        () => spawnedAt,
      );
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
        const env = { ...CLEAN_ENV, FLINK_URL: cluster.restUrl, ACTION: action, JAR: path.join(cwd, "job.jar"), JOB_NAME: jobName, JOB_ID: jobId, SAVEPOINT: savepoint };
        spawnedAt = Date.now();
        run = await runChild(process.execPath, [FLOOR], { ...options, env });
        if (run.exitCode !== 0) throw new Error(`floor ${action}: exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`);
        jobId = /jobId=(\S+)/.exec(run.stdout)?.[1] ?? jobId;
        savepoint = /savepoint=(\S+)/.exec(run.stdout)?.[1] ?? savepoint;
      }
      // The CLI returns once Flink accepted the job or the cancel: wait (bounded) for Flink to report it done.
      for (let i = 0; i < 1200 && watcher.seenMs() === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      watcher.stop();
      const doneMs = watcher.seenMs();
      runs.push({ side, action, exitMs: run.wallMs, ...(starts && doneMs !== undefined ? { runningMs: doneMs } : {}), ...(doneMs !== undefined ? { doneMs } : {}), peakRssBytes: run.peakRssBytes });
      log(`  ${FLINK_SIDES[side]} ${action}: exit ${Math.round(run.wallMs)} ms, Flink reported it done at ${doneMs ?? "?"} ms`);
      if ((action === "stop" && !savepoint) || (action === "submit" && !jobId)) throw new Error(`${side} ${action}: no ${action === "stop" ? "savepoint" : "job id"} in its output`);
    }
    return runs;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

export async function measureFlink(bundle: (task: string) => string, log: (m: string) => void, runs = FLINK_RUNS): Promise<FlinkBenchResults> {
  const cold = await coldStart(bundle, log);
  const version = CI_FLINK_VERSIONS[0]!;
  log(`Flink ${version}: starting one cluster (the test bed) for our tasks, bin/flink and the REST floor; ${runs} lifecycles each, the sides in turn`);
  const jars = await buildTestJobJars(version);
  const cluster = await startFlinkCluster({ version });
  try {
    const actions: FlinkActionRun[] = [];
    const sides = Object.keys(FLINK_SIDES) as FlinkSide[];
    for (let round = 1; round <= runs; round++) {
      // Each side goes first in turn: the first submit on a cluster is slower (the JobManager warms up).
      const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
      for (const side of order) {
        log(`Flink lifecycle ${round}/${runs} by ${FLINK_SIDES[side]}`);
        actions.push(...(await lifecycle(side, round, cluster, jars.v1, bundle, log)));
      }
    }
    return { version, coldStart: cold, actions };
  } finally {
    await cluster.stop();
  }
}

const ms = (v: number | undefined) => (v === undefined ? "–" : Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
const mib = (b: number | undefined) => (b === undefined ? "–" : `${(b / 1024 / 1024).toFixed(0)} MiB`);
const fmt = (s: Stat | undefined) => (s ? `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})` : "–");
const ACTION_LABEL: Record<FlinkAction, string> = { submit: "submit", stop: "stop (savepoint)", start: "start from the savepoint", cancel: "cancel" };

/** When the pipeline's next step may start: the later of the process's exit and Flink reporting the action done. */
const stepMs = (run: FlinkActionRun) => Math.max(run.exitMs, run.doneMs ?? 0);

function runsOf(r: FlinkBenchResults, side: FlinkSide, action: FlinkAction): FlinkActionRun[] {
  return r.actions.filter((a) => a.side === side && a.action === action);
}

function statOf(runs: FlinkActionRun[], value: (run: FlinkActionRun) => number | undefined): Stat | undefined {
  const values = runs.map(value).filter((v): v is number => v !== undefined);
  return values.length ? stat(values) : undefined;
}

/** Our tasks' targets on Flink, checked against the medians. */
export function flinkTargetChecks(r: FlinkBenchResults): Array<{ measure: string; value: string; target: string; met: boolean }> {
  const ours = (action: FlinkAction) => runsOf(r, "ours", action);
  const after = (action: FlinkAction) => statOf(ours(action), (run) => (run.doneMs === undefined ? undefined : run.exitMs - run.doneMs));
  const ratio = r.coldStart.firstRequestMs.median / r.coldStart.bareNodeMs.median;
  const checks = [
    {
      measure: "Flink path cold start: spawn → first request (/config), median",
      value: `${ms(r.coldStart.firstRequestMs.median)} = ${ratio.toFixed(2)}× bare node (${ms(r.coldStart.bareNodeMs.median)})`,
      target: `≤ ${FLINK_TARGETS.coldStartRatio}× bare node`,
      met: ratio <= FLINK_TARGETS.coldStartRatio,
    },
  ];
  const running = statOf(ours("submit"), (run) => run.runningMs);
  checks.push({ measure: "submit: spawn → job RUNNING, median (min–max)", value: fmt(running), target: `≤ ${ms(FLINK_TARGETS.submitRunningMs)}`, met: !!running && running.median <= FLINK_TARGETS.submitRunningMs });
  const done: Record<FlinkAction, string> = { submit: "RUNNING", start: "RUNNING", stop: "the savepoint (job FINISHED)", cancel: "CANCELED" };
  for (const action of ACTIONS) {
    const s = after(action);
    checks.push({ measure: `${ACTION_LABEL[action]}: exit after Flink reports ${done[action]}, median (min–max)`, value: fmt(s), target: `≤ ${ms(FLINK_TARGETS.exitAfterDoneMs)}`, met: !!s && s.median <= FLINK_TARGETS.exitAfterDoneMs });
  }
  return checks;
}

/** The "Apache Flink REST" section of docs/performance.md; `chart` is the SVG's file name beside it. */
export function renderFlinkSection(r: FlinkBenchResults, chart?: string): string {
  const out: string[] = [];
  const n = Math.max(...r.actions.map((a) => runsOf(r, a.side, a.action).length));
  out.push("## Apache Flink REST (`target: flinkRest`) on a real Flink", "");
  out.push(
    `One Flink ${r.version} session cluster of the test bed (testbed/flink: one JobManager, one TaskManager on 127.0.0.1), the same ` +
      `job jar (the test bed's CountingJob), the lifecycle submit → stop with a savepoint → start from that savepoint → cancel, ${n} times per side, ` +
      "the sides in turn, each going first in turn. **Our tasks**: the bundled FlinkJobSubmit, FlinkJobStop, FlinkJobStart and FlinkJobCancel spawned with the agent's variables only " +
      "(an ApacheFlink connection, scheme None; default polling inputs; no NODE_EXTRA_CA_CERTS). **bin/flink CLI**: Flink's own client from the test bed's FLINK_HOME " +
      "(`run -d`, `stop --savepointPath`, `run -d -s`, `cancel`, with `-m 127.0.0.1:<port>`). **REST floor**: scripts/bench/flink-rest-floor.js, " +
      "the shortest correct script by hand (upload, run, then read every 100 ms until Flink reports the action done), in the same clean environment. " +
      "Exit is spawn to the process's exit. *Flink done* is spawn to the moment a watcher in the benchmark (GET /jobs/overview every 50 ms) sees " +
      "Flink report the action done: the new job RUNNING with every task running (submit, start), the job FINISHED after its savepoint (stop), CANCELED (cancel). " +
      "A step is done at the later of the two (`bin/flink run -d` and `cancel` return before Flink is done). Figures are median (min–max) over the runs.",
    "",
  );
  if (chart) out.push(`![Step time per action and side: median with min–max](${chart})`, "");
  const sides = Object.keys(FLINK_SIDES) as FlinkSide[];
  const head = ["Action", ...sides.map((side) => `${FLINK_SIDES[side]}: step done`), "ours ÷ floor", "ours: exit", "ours: Flink done", "ours: exit − Flink done", "peak RSS (ours / CLI / floor)"];
  const rows = ACTIONS.map((action) => {
    const step = (side: FlinkSide) => statOf(runsOf(r, side, action), stepMs);
    const ours = runsOf(r, "ours", action);
    const floor = step("floor");
    const peak = (side: FlinkSide) => mib(statOf(runsOf(r, side, action), (run) => run.peakRssBytes)?.max);
    return [
      ACTION_LABEL[action],
      ...sides.map((side) => fmt(step(side))),
      floor && step("ours") ? `${(step("ours")!.median / floor.median).toFixed(2)}×` : "–",
      fmt(statOf(ours, (run) => run.exitMs)),
      fmt(statOf(ours, (run) => run.doneMs)),
      fmt(statOf(ours, (run) => (run.doneMs === undefined ? undefined : run.exitMs - run.doneMs))),
      sides.map(peak).join(" / "),
    ];
  });
  out.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`), "");
  const checks = flinkTargetChecks(r);
  out.push("Targets for our tasks on Flink (issue 20):", "");
  out.push("| Measure | Ours | Target | Met |", "|---|---|---|---|", ...checks.map((c) => `| ${c.measure} | ${c.value} | ${c.target} | ${c.met ? "yes" : "**no**"} |`), "");
  if (!checks[0]!.met) {
    out.push(
      "Why the cold start misses its target: before its first request the Flink path compiles its entry (task-lib and its dependencies), the Flink " +
        "backend and axios, about 0.4 MB of JavaScript, as ES modules (Node's module loader costs a few ms more than CommonJS), and Node loads http, " +
        "https, tls, crypto, zlib and child_process (task-lib's tool runner). Left out of that path: the ARM client, @azure/identity, the storage SDK, " +
        "undici (axios's fetch probes) and HTTP/2. Reaching 2× needs a lighter agent library than task-lib, or no axios on this path: not done.",
      "",
    );
  }
  const cs = r.coldStart;
  out.push(
    `**Cold start of the Flink path**: the bundled FlinkJobStatus with \`target: flinkRest\`, spawned ${cs.runs} times (after one warm-up) in turn with bare ` +
      `\`node -e 0\` (both with the agent's variables only), to its first request (${[...new Set(cs.firstRoutes)].join(", ")}) at a local HTTP server: ` +
      `${fmt(cs.firstRequestMs)} against bare node's ${fmt(cs.bareNodeMs)}.`,
    "",
  );
  return out.join("\n");
}

/** A bar chart (SVG) of the step time per action and side: the median as a bar, min–max as a whisker. */
export function renderFlinkChart(r: FlinkBenchResults): string {
  const sides = Object.keys(FLINK_SIDES) as FlinkSide[];
  const colours: Record<FlinkSide, string> = { ours: "#2f6fde", cli: "#9a9a9a", floor: "#35a852" };
  const stats = ACTIONS.map((action) => sides.map((side) => statOf(runsOf(r, side, action), stepMs)));
  const maxMs = Math.max(1000, ...stats.flat().map((s) => s?.max ?? 0));
  const left = 190;
  const width = 820;
  // Room on the right for the label after the longest whisker.
  const plot = width - left - 80;
  const barH = 14;
  const groupH = sides.length * (barH + 4) + 18;
  const top = 40;
  const height = top + ACTIONS.length * groupH + 50;
  const x = (v: number) => left + (v / maxMs) * plot;
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Flink ${esc(r.version)}: spawn → step done (median, min–max), lower is better</text>`,
  ];
  const step = maxMs > 20_000 ? 5000 : maxMs > 8000 ? 2000 : 1000;
  for (let t = 0; t <= maxMs; t += step) {
    parts.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${height - 40}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${x(t)}" y="${height - 26}" text-anchor="middle" fill="#555">${t / 1000} s</text>`);
  }
  ACTIONS.forEach((action, i) => {
    const y0 = top + i * groupH;
    parts.push(`<text x="${left - 10}" y="${y0 + groupH / 2 - 4}" text-anchor="end" font-weight="bold">${esc(ACTION_LABEL[action])}</text>`);
    sides.forEach((side, j) => {
      const s = stats[i]![j];
      if (!s) return;
      const y = y0 + j * (barH + 4);
      parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(s.median) - left)}" height="${barH}" fill="${colours[side]}"/>`);
      parts.push(`<line x1="${x(s.min)}" y1="${y + barH / 2}" x2="${x(s.max)}" y2="${y + barH / 2}" stroke="#222"/>`);
      parts.push(`<line x1="${x(s.min)}" y1="${y + 3}" x2="${x(s.min)}" y2="${y + barH - 3}" stroke="#222"/><line x1="${x(s.max)}" y1="${y + 3}" x2="${x(s.max)}" y2="${y + barH - 3}" stroke="#222"/>`);
      parts.push(`<text x="${x(s.max) + 5}" y="${y + barH - 3}" fill="#222">${esc(ms(s.median))}</text>`);
    });
  });
  sides.forEach((side, j) => {
    const lx = left + j * 190;
    parts.push(`<rect x="${lx}" y="${height - 16}" width="12" height="12" fill="${colours[side]}"/><text x="${lx + 16}" y="${height - 6}">${esc(FLINK_SIDES[side])}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
