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

interface Row {
  section: string;
  scenario: string;
  held: boolean;
  ms: number;
  error?: string;
}

function sectionOf(test: Mocha.Test): string {
  const titles: string[] = [];
  for (let s: Mocha.Suite | undefined = test.parent; s && !s.root; s = s.parent) titles.unshift(s.title);
  return titles.slice(-1)[0] ?? "";
}

async function main(): Promise<void> {
  await buildTasks();
  const mocha = new Mocha({ timeout: 180_000, reporter: "spec" });
  for (const file of FILES) mocha.addFile(path.join(root, file));
  const rows: Row[] = [];
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on("pass", (test) => rows.push({ section: sectionOf(test), scenario: test.title, held: true, ms: test.duration ?? 0 }));
    runner.on("fail", (test, error: Error) => {
      if (test.type === "test") rows.push({ section: sectionOf(test as Mocha.Test), scenario: test.title, held: false, ms: test.duration ?? 0, error: error.message.split("\n")[0] });
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
