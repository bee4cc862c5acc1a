/**
 * Renders the run summary that the tasks upload into images/run-summary.png, for overview.md.
 *
 *   npx tsx scripts/summary-screenshot.ts [--out images/run-summary.png] [--scale 1] [--keep-html]
 *
 * Nothing here is made up: the tasks are built (when their bundles are missing or older than the
 * sources), the emulator is started in-process, a small real lifecycle (submit, then stop with a
 * savepoint) runs through the bundled tasks the way the agent runs them, and the Markdown each
 * step uploaded with `task.uploadsummary` is rendered with `marked` into a page styled like the
 * "Extensions" tab of an Azure DevOps run (the earlier steps' sections folded, the last one open,
 * so that the picture stays about 1000×700; `--expand-all` opens them all). Each section is titled with the attachment name the
 * agent gives it (the summary file's name for `task.uploadsummary`, the `name` property for
 * `task.addattachment`). Headless Chromium takes the screenshot.
 *
 * Needs Chromium (Debian: `apt-get install -y chromium`; or set CHROMIUM to its path) and, for
 * a font close to Segoe UI, `fonts-open-sans`. Run by hand; not part of CI.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../emulator/index";
import type { TaskRun } from "../test/harness/agent";
import { runOnEmulator } from "../test/harness/emulator-connections";
import { buildTasks, taskFolders } from "./build";

const root = path.resolve(__dirname, "..");

export interface Options {
  out: string;
  scale: number;
  keepHtml: boolean;
  /** Expand every section; by default only the last step's is open, as if the others were folded. */
  expandAll: boolean;
  width: number;
  height: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { out: path.join(root, "images", "run-summary.png"), scale: 1, keepHtml: false, expandAll: false, width: 1000, height: 700 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--out") options.out = path.resolve(value());
    else if (arg === "--scale") options.scale = Number(value());
    else if (arg === "--width") options.width = Number(value());
    else if (arg === "--height") options.height = Number(value());
    else if (arg === "--keep-html") options.keepHtml = true;
    else if (arg === "--expand-all") options.expandAll = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

/** The newest modification time under a directory (files only). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Bundles that are missing or older than src/ or their task folder. */
function staleBundles(tasks: string[]): string[] {
  const src = newestMtime(path.join(root, "src"));
  return tasks.filter((task) => {
    const bundle = path.join(root, "dist", "tasks", task, "index.js");
    if (!fs.existsSync(bundle)) return true;
    return fs.statSync(bundle).mtimeMs < Math.max(src, newestMtime(path.join(root, "tasks", task)));
  });
}

export interface Step {
  /** The YAML step name and display name, as a pipeline would have them. */
  name: string;
  displayName: string;
  task: string;
  run: TaskRun;
}

/** What the Extensions tab titles a summary with: the agent's attachment name. */
export function attachmentNames(run: TaskRun): string[] {
  const names: string[] = [];
  for (const c of run.commands) {
    if (c.command === "task.uploadsummary") names.push(path.basename(c.message));
    else if (c.command === "task.addattachment" && (c.properties["type"] ?? "").toLowerCase() === "distributedtask.core.summary") {
      names.push(c.properties["name"] ?? path.basename(c.message));
    }
  }
  return names;
}

async function runLifecycle(emulator: Emulator): Promise<Step[]> {
  const jobName = "orders-enrichment";
  const steps: Step[] = [];
  const step = async (name: string, displayName: string, task: string, inputs: Record<string, string>) => {
    const run = await runOnEmulator(emulator, task, { jobName, ...inputs }, { scheme: "workloadIdentity", timeoutMs: 300_000 });
    if (run.result !== "Succeeded") throw new Error(`${task} ended ${run.result}: ${run.resultMessage}\n${run.visibleLog}`);
    if (!run.summaries.length) throw new Error(`${task} uploaded no summary`);
    process.stdout.write(`${task}: ${run.resultMessage}\n`);
    steps.push({ name, displayName, task, run });
    return run;
  };
  await step("submit", "Submit the job", "FlinkJobSubmit", {
    jobJarDirectory: emulator.knownJar.jobJarDirectory,
    jarName: emulator.knownJar.jarName,
    entryClass: emulator.knownJar.entryClass,
    args: "--window 5m",
    parallelism: "2",
    savepointDirectory: "abfss://state@flinkemulatorstore.dfs.core.windows.net/savepoints/orders-enrichment",
  });
  await step("stop", "Stop the job with a savepoint", "FlinkJobStop", {});
  return steps;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const CSS = `
:root {
  --text: rgba(0, 0, 0, 0.9);
  --secondary: rgba(0, 0, 0, 0.55);
  --line: rgba(0, 0, 0, 0.08);
  --blue: #0078d4;
  --green: #107c10;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: #f8f8f8; color: var(--text); }
body {
  font-family: "Segoe UI", "Segoe UI Web (West European)", -apple-system, BlinkMacSystemFont, "Open Sans", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 13.5px; line-height: 1.45; -webkit-font-smoothing: antialiased;
}
.topbar { height: 40px; background: #fff; border-bottom: 1px solid var(--line); display: flex; align-items: center; padding: 0 16px; gap: 10px; }
.logo { width: 20px; height: 20px; border-radius: 3px; background: linear-gradient(135deg, #0078d4, #2b88d8); }
.crumbs { color: var(--secondary); font-size: 13px; }
.crumbs b { color: var(--text); font-weight: 600; }
.crumbs span { margin: 0 7px; color: rgba(0,0,0,.3); }
.header { background: #fff; padding: 16px 28px 0; border-bottom: 1px solid var(--line); }
.title { display: flex; align-items: center; gap: 10px; font-size: 20px; font-weight: 600; }
.ok { width: 20px; height: 20px; border-radius: 50%; background: var(--green); color: #fff; font-size: 13px; display: inline-flex; align-items: center; justify-content: center; font-weight: 700; }
.subtitle { color: var(--secondary); font-size: 12.5px; margin: 4px 0 0 30px; }
.subtitle .step { color: var(--text); }
.subtitle .dot { margin: 0 6px; }
.tabs { display: flex; gap: 24px; margin: 14px 0 0 2px; }
.tab { padding: 8px 0 9px; color: var(--secondary); font-size: 14px; }
.tab.active { color: var(--text); font-weight: 600; box-shadow: inset 0 -2px 0 var(--blue); }
.content { padding: 16px 28px; }
.section { background: #fff; border-radius: 4px; margin-bottom: 14px; box-shadow: 0 1.6px 3.6px rgba(0,0,0,.13), 0 0.3px 0.9px rgba(0,0,0,.11); }
.section-head { display: flex; align-items: center; gap: 8px; padding: 10px 16px; font-weight: 600; font-size: 14px; border-bottom: 1px solid var(--line); }
.chevron { width: 8px; height: 8px; border-right: 1.5px solid var(--secondary); border-bottom: 1.5px solid var(--secondary); transform: rotate(45deg) translate(-2px, -2px); margin: 0 4px 0 2px; }
.section.folded .section-head { border-bottom: 0; }
.section.folded .chevron { transform: rotate(-45deg) translate(-1px, 0); }
.section.folded .section-body { display: none; }
.section-body { padding: 4px 16px 12px; }
.section-body h3 { font-size: 15px; font-weight: 600; margin: 10px 0 8px; }
.section-body table { border-collapse: collapse; width: 100%; margin: 0 0 10px; }
.section-body th, .section-body td { text-align: left; padding: 3px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
.section-body thead th { border-bottom: 1px solid rgba(0,0,0,.16); font-weight: 600; color: var(--secondary); font-size: 12px; }
.section-body td:first-child { color: var(--secondary); width: 130px; white-space: nowrap; }
.section-body td { font-variant-numeric: tabular-nums; }
.section-body a { color: var(--blue); text-decoration: none; }
.section-body p { margin: 8px 0 4px; }
.section-body pre { background: #f4f4f4; border-radius: 3px; padding: 7px 10px; margin: 4px 0 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
.section-body code { font-family: "Cascadia Mono", Consolas, Menlo, "DejaVu Sans Mono", monospace; font-size: 12px; }
`;

export type Marked = typeof import("marked", { with: { "resolution-mode": "import" } }).marked;

export function renderPage(marked: Marked, steps: Step[], expandAll: boolean): string {
  const sections = steps
    .flatMap((step, index) => {
      const folded = !expandAll && index < steps.length - 1;
      const names = attachmentNames(step.run);
      return step.run.summaries.map((markdown, i) => {
        const title = names[i] ?? step.task;
        const body = marked.parse(markdown, { async: false, gfm: true });
        return `<section class="section${folded ? " folded" : ""}"><div class="section-head"><span class="chevron"></span>${escapeHtml(title)}</div><div class="section-body">${body}</div></section>`;
      });
    })
    .join("\n");
  const stepList = steps.map((s) => `<span class="step">${escapeHtml(s.displayName)}</span>`).join('<span class="dot">·</span>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run summary</title><style>${CSS}</style></head>
<body>
<div class="topbar"><div class="logo"></div><div class="crumbs">contoso<span>/</span>Data Platform<span>/</span>Pipelines<span>/</span><b>orders-enrichment-deploy</b></div></div>
<div class="header">
  <div class="title"><span class="ok">✓</span>#20250130.4 · Deploy orders-enrichment</div>
  <div class="subtitle">Job: Deploy Flink job<span class="dot">·</span>Steps: ${stepList}</div>
  <div class="tabs"><div class="tab">Summary</div><div class="tab">Tests</div><div class="tab active">Extensions</div></div>
</div>
<div class="content">
${sections}
</div>
</body></html>
`;
}

export function findChromium(): string {
  const candidates = [process.env["CHROMIUM"], "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error("Chromium not found: install it (Debian: apt-get install -y chromium) or set CHROMIUM to its path");
}

export function screenshot(chromium: string, htmlFile: string, out: string, options: Options): void {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "summary-chromium-"));
  try {
    fs.rmSync(out, { force: true });
    execFileSync(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--hide-scrollbars",
        "--font-render-hinting=none",
        `--force-device-scale-factor=${options.scale}`,
        `--window-size=${options.width},${options.height}`,
        `--screenshot=${out}`,
        `file://${htmlFile}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 },
    );
    if (!fs.existsSync(out)) throw new Error("Chromium wrote no screenshot");
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const chromium = findChromium();
  // marked is an ES module; this script is CommonJS.
  const { marked } = await import("marked");
  const stale = staleBundles(taskFolders());
  if (stale.length) {
    process.stdout.write(`Building ${stale.join(", ")}…\n`);
    await buildTasks({ only: stale });
  }
  // Real time: the durations in the summaries are those of the emulated service, not a sped-up clock.
  const emulator = await startEmulator({ timeScale: 1 });
  let steps: Step[];
  try {
    steps = await runLifecycle(emulator);
  } finally {
    await emulator.close();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-summary-"));
  const htmlFile = path.join(dir, "run-summary.html");
  fs.writeFileSync(htmlFile, renderPage(marked, steps, options.expandAll));
  screenshot(chromium, htmlFile, options.out, options);
  process.stdout.write(`${path.relative(root, options.out)} written${options.keepHtml ? `; page: ${htmlFile}` : ""}\n`);
  if (!options.keepHtml) fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
}
