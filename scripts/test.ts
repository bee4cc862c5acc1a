/**
 * The test run (`npm test` after build, lint and typecheck): one mocha process per Flink version
 * under test, side by side. The first runs every suite, on its version; each other runs only the
 * suites written per version (those that call flinkVersionsUnderTest), on its own. A Flink suite
 * spends most of its time waiting on a real cluster, so two versions side by side take little more
 * wall time than one, which keeps CI within its budget on two cores.
 *
 * Each line is prefixed with its version; the last line counts every process's tests. Arguments are
 * passed to every mocha (`npm test -- -g lifecycle`). Exit status: non-zero when any process failed.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { flinkVersionsFrom } from "../testbed/flink/versions";

const root = path.resolve(__dirname, "..");
const mocha = path.join(root, "node_modules", "mocha", "bin", "mocha.js");

/** Test files written per Flink version: the ones a second version runs. */
function perVersionSuites(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".test.ts") && fs.readFileSync(full, "utf8").includes("flinkVersionsUnderTest(")) found.push(path.relative(root, full));
    }
  };
  walk(path.join(root, "test"));
  return found.sort();
}

interface Counts {
  passing: number;
  failing: number;
  pending: number;
}

function run(version: string, args: string[], extra: string[]): Promise<{ code: number; counts: Counts }> {
  const counts: Counts = { passing: 0, failing: 0, pending: 0 };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mocha, ...args, ...extra], { cwd: root, env: { ...process.env, FLINK_VERSIONS: version }, stdio: ["ignore", "pipe", "pipe"] });
    const prefix = `[${version}] `;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          const count = /^\s+(\d+) (passing|failing|pending)\b/.exec(line);
          if (count) counts[count[2] as keyof Counts] = Number(count[1]);
          (stream === child.stdout ? process.stdout : process.stderr).write(`${prefix}${line}\n`);
        }
      });
      stream.on("end", () => {
        if (rest) (stream === child.stdout ? process.stdout : process.stderr).write(`${prefix}${rest}\n`);
      });
    }
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), counts }));
  });
}

async function main(): Promise<void> {
  const versions = flinkVersionsFrom(process.env.FLINK_VERSIONS);
  const extra = process.argv.slice(2);
  const perVersion = perVersionSuites();
  const runs = versions.map((version, i) =>
    // The first process reads .mocharc.json (every suite); the others name their suites.
    run(version, i === 0 ? [] : ["--no-config", "--require", "tsx/cjs", "--extension", "ts", "--timeout", "30000", "--reporter", "spec", ...perVersion], extra),
  );
  const results = await Promise.all(runs);
  const total = results.reduce((t, r) => ({ passing: t.passing + r.counts.passing, failing: t.failing + r.counts.failing, pending: t.pending + r.counts.pending }), { passing: 0, failing: 0, pending: 0 });
  results.forEach((r, i) => process.stdout.write(`Flink ${versions[i]}: ${r.counts.passing} passing, ${r.counts.failing} failing${r.code ? ` (mocha exited ${r.code})` : ""}\n`));
  process.stdout.write(`${total.passing} passed, ${total.failing} failed${total.pending ? `, ${total.pending} skipped` : ""}\n`);
  process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
}

void main();
