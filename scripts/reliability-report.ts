/**
 * Runs the reliability suite and the bad-input table, and writes docs/reliability.md with what
 * was tried and what held. `npm run reliability`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Mocha from "mocha";
import { buildTasks } from "./build";

const root = path.resolve(__dirname, "..");
const FILES = [
  "test/reliability/faults.test.ts",
  "test/reliability/injection.test.ts",
  "test/reliability/flink-access.test.ts",
  "test/e2e/guesses.test.ts",
  "test/e2e/refusals.test.ts",
  "test/flink-rest/failures.test.ts",
  "test/flink-rest/failover.test.ts",
  "test/flink-rest/outages.test.ts",
  "test/flink-rest/client-faults.test.ts",
  "test/e2e/post-refusals.test.ts",
  "test/unit/hdinsight-aks/savepoints.test.ts",
  "test/unit/network.test.ts",
  "test/unit/messages.test.ts",
  "test/unit/hdinsight-aks/judge.test.ts",
  "test/unit/hdinsight-aks/run-action.test.ts",
  "test/unit/hdinsight-aks/jobs-api.test.ts",
  "test/unit/flow.test.ts",
  "test/unit/recordings.test.ts",
  "test/unit/validation.test.ts",
  "test/manifests.test.ts",
];

export interface Row {
  section: string;
  /** Every suite title above the test, outermost first. */
  suites: string[];
  scenario: string;
  held: boolean;
  ms: number;
  error?: string;
}

function suitesOf(test: Mocha.Runnable): string[] {
  const titles: string[] = [];
  for (let s: Mocha.Suite | undefined = test.parent; s && !s.root; s = s.parent) titles.unshift(s.title);
  return titles;
}

function rowOf(test: Mocha.Runnable, held: boolean, error?: Error): Row {
  const suites = suitesOf(test);
  return { section: suites.slice(-1)[0] ?? "", suites, scenario: test.title, held, ms: test.duration ?? 0, ...(error ? { error: error.message.split("\n")[0] } : {}) };
}

/** The faults of a real cluster the Flink suites inject, told apart by their suite and test titles. */
const FAULT_KINDS: { kind: string; pattern: RegExp }[] = [
  { kind: "JobManager killed and started again (ZooKeeper HA failover)", pattern: /the JobManager killed and started again/ },
  // failover.test's outage cases, and the outage suite of the client side of issue 19 (outages.test).
  { kind: "REST API unreachable for a while (JobManager alive)", pattern: /the REST API unreachable for|REST outages during the waits/ },
  { kind: "TaskManager killed during a savepoint", pattern: /the TaskManager killed while the savepoint is IN_PROGRESS/ },
];

/**
 * The fault table: per kind of fault and Flink version, how many scenarios were tried and how many
 * held. A scenario holds only when its task ended right or said where the job stands, with one
 * job and every savepoint on disk named (each test asserts that on Flink and on disk).
 */
export function faultTable(rows: Row[]): string[] {
  const counts = new Map<string, { kind: string; version: string; tried: number; held: number }>();
  for (const row of rows) {
    const titles = [...row.suites, row.scenario].join(" / ");
    const kind = FAULT_KINDS.find((k) => k.pattern.test(titles))?.kind;
    const version = /\bFlink (\d+\.\d+\.\d+)/.exec(titles)?.[1];
    if (!kind || !version) continue;
    const key = `${kind}\0${version}`;
    const entry = counts.get(key) ?? { kind, version, tried: 0, held: 0 };
    entry.tried++;
    if (row.held) entry.held++;
    counts.set(key, entry);
  }
  if (counts.size === 0) return [];
  const order = (kind: string) => FAULT_KINDS.findIndex((k) => k.kind === kind);
  const entries = [...counts.values()].sort((a, b) => order(a.kind) - order(b.kind) || a.version.localeCompare(b.version, undefined, { numeric: true }));
  return [
    "## Faults of a real Flink, by kind and version",
    "",
    "Each injected into the middle of a task's wait on a real cluster of the test bed; held = the task",
    "ended right (or failed saying where the job stands), never two jobs, no savepoint lost (checked",
    "on disk and through Flink's REST API).",
    "",
    "| fault | Flink | tried | held, nothing lost |",
    "|---|---|---|---|",
    ...entries.map((e) => `| ${e.kind} | ${e.version} | ${e.tried} | ${e.held === e.tried ? e.held : `**${e.held}**`} |`),
    "",
  ];
}

async function main(): Promise<void> {
  await buildTasks();
  const mocha = new Mocha({ timeout: 180_000, reporter: "spec" });
  for (const file of FILES) mocha.addFile(path.join(root, file));
  const rows: Row[] = [];
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on("pass", (test) => rows.push(rowOf(test, true)));
    runner.on("fail", (test, error: Error) => {
      if (test.type === "test") rows.push(rowOf(test, false, error));
    });
  });
  const held = rows.filter((r) => r.held).length;
  const bySection = new Map<string, Row[]>();
  for (const row of rows) bySection.set(row.section, [...(bySection.get(row.section) ?? []), row]);
  const cell = (t: string) => t.replace(/\|/g, "\\|");
  const lines = [
    "# Reliability",
    "",
    "What the tasks survive, each row a test that fails if the behaviour regresses. Every fault",
    "scenario runs the real bundled task through the agent harness against the emulator over HTTPS,",
    "and also checks that no action was accepted twice. The GUESS suites flip one of the emulator's",
    "undocumented-behaviour switches each; the judge, wait and job-list suites run the same logic in",
    "memory against scripted answers; the recordings suite replays the real service's bytes.",
    "",
    "Reproduce with one command: `npm run reliability` (rewrites this page).",
    "",
    `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; ${Math.round((Date.now() - started) / 1000)} s.`,
    "",
    `**${rows.length} scenarios tried, ${held} held${rows.length - held ? `, ${rows.length - held} did not` : ""}.**`,
    "",
    ...faultTable(rows),
  ];
  for (const [section, list] of bySection) {
    lines.push(`## ${section} (${list.filter((r) => r.held).length}/${list.length} held)`, "", "| scenario | held | seconds |", "|---|---|---|");
    for (const r of list) lines.push(`| ${cell(r.scenario)} | ${r.held ? "yes" : `**no**: ${cell(r.error ?? "")}`} | ${(r.ms / 1000).toFixed(1)} |`);
    lines.push("");
  }
  fs.mkdirSync(path.join(root, "docs"), { recursive: true });
  fs.writeFileSync(path.join(root, "docs", "reliability.md"), lines.join("\n"));
  console.log(`docs/reliability.md: ${rows.length} tried, ${held} held`);
  if (held !== rows.length) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
