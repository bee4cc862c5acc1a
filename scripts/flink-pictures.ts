/**
 * The Apache Flink pictures of overview.md, made from real runs and the real manifest:
 *
 *   npx tsx scripts/flink-pictures.ts [--out-dir images] [--keep-html]
 *
 * - images/flink-run-summary.png: the Extensions tab after two FlinkJobDeploy steps (a submit,
 *   then an upgrade to a second jar) run through the bundled tasks, as the agent runs them, against
 *   a real Flink 1.20 session cluster of the test bed (started and stopped here);
 * - images/flink-deploy-log.png: the log of that upgrade step, as a reader sees it (no debug);
 * - images/flink-connection.png: the Apache Flink service connection dialog, drawn from the
 *   ApacheFlink endpoint contribution of vss-extension.json (its URL field, schemes and inputs).
 *
 * Needs Chromium (Debian: apt-get install -y chromium) and Flink in the test bed's cache
 * (npm run flink -- install). Run by hand after changing the summary, the log or the connection.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runTask, type TaskRun } from "../test/harness/agent";
import { startFlinkCluster } from "../testbed/flink/cluster";
import { buildTestJobJars } from "../testbed/flink/job";
import { CI_FLINK_VERSIONS } from "../testbed/flink/versions";
import { buildTasks, taskFolders } from "./build";
import { CSS, escapeHtml, findChromium, renderPage, screenshot, type Step } from "./summary-screenshot";

const root = path.resolve(__dirname, "..");
const CONNECTION_ID = "8c2d7e41-6b0a-4f3e-b5d9-1a7c3e9f2b64";

interface EndpointInput {
  id: string;
  name: string;
  description?: string;
  inputMode?: string;
  values?: { inputId?: string; defaultValue?: string; possibleValues?: Array<{ value: string; displayValue?: string }> };
  validation?: { isRequired?: boolean };
}

interface EndpointType {
  name: string;
  displayName: string;
  url: { displayName: string; required?: boolean; helpText?: string };
  authenticationSchemes: Array<{ type: string; inputDescriptors?: EndpointInput[] }>;
  inputDescriptors?: EndpointInput[];
}

/** The ApacheFlink endpoint type as vss-extension.json contributes it. */
export function apacheFlinkEndpoint(manifest = JSON.parse(fs.readFileSync(path.join(root, "vss-extension.json"), "utf8")) as { contributions: Array<{ type: string; properties: unknown }> }): EndpointType {
  const contribution = manifest.contributions.find((c) => c.type === "ms.vss-endpoint.service-endpoint-type" && (c.properties as EndpointType).name === "ApacheFlink");
  if (!contribution) throw new Error("vss-extension.json contributes no ApacheFlink endpoint type");
  return contribution.properties as EndpointType;
}

/** What Azure DevOps labels each authentication scheme type in the dialog. */
const SCHEME_LABELS: Record<string, string> = {
  "ms.vss-endpoint.endpoint-auth-scheme-none": "None",
  "ms.vss-endpoint.endpoint-auth-scheme-basic": "Basic",
  "ms.vss-endpoint.endpoint-auth-scheme-token": "Token",
  "ms.vss-endpoint.endpoint-auth-scheme-cert": "Certificate",
};

/** The dialog's fields in order, as Azure DevOps lays out a generic endpoint type: URL, scheme, scheme inputs, data inputs, name. */
export function connectionDialogFields(endpoint: EndpointType, scheme = "ms.vss-endpoint.endpoint-auth-scheme-basic"): Array<{ label: string; kind: string; value?: string; help?: string }> {
  const schemeInputs: EndpointInput[] =
    scheme === "ms.vss-endpoint.endpoint-auth-scheme-basic"
      ? [
          { id: "username", name: "Username", inputMode: "textbox" },
          { id: "password", name: "Password", inputMode: "passwordbox" },
        ]
      : (endpoint.authenticationSchemes.find((s) => s.type === scheme)?.inputDescriptors ?? []);
  return [
    { label: `${endpoint.url.displayName}${endpoint.url.required ? " *" : ""}`, kind: "textbox", value: "https://flink.contoso.com/flink/orders/", ...(endpoint.url.helpText ? { help: endpoint.url.helpText } : {}) },
    { label: "Authentication method", kind: "schemes", value: endpoint.authenticationSchemes.map((s) => `${s.type === scheme ? "●" : "○"} ${SCHEME_LABELS[s.type] ?? s.type}`).join("   ") },
    ...schemeInputs.map((i) => ({ label: `${i.name}${i.validation?.isRequired ? " *" : ""}`, kind: i.inputMode ?? "textbox", ...(i.id === "username" ? { value: "pipeline" } : i.inputMode === "passwordbox" ? { value: "••••••••••" } : {}) })),
    ...(endpoint.inputDescriptors ?? []).map((i) => ({
      label: i.name,
      kind: i.inputMode ?? "textbox",
      ...((i.values?.defaultValue ?? i.values?.possibleValues?.[0]?.displayValue) !== undefined ? { value: i.values?.defaultValue ?? i.values!.possibleValues![0]!.displayValue! } : {}),
      ...(i.description ? { help: i.description } : {}),
    })),
    { label: "Service connection name *", kind: "textbox", value: "flink-prod" },
  ];
}

/** Markdown-ish help text (`code`) as HTML. */
function helpHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function dialogPage(endpoint: EndpointType): string {
  const fields = connectionDialogFields(endpoint)
    .map((f) => {
      const box =
        f.kind === "schemes"
          ? `<div class="schemes">${escapeHtml(f.value ?? "")}</div>`
          : f.kind === "textArea"
            ? `<div class="input area">${escapeHtml(f.value ?? "")}</div>`
            : f.kind === "combo"
              ? `<div class="input combo">${escapeHtml(f.value ?? "")}<span>▾</span></div>`
              : `<div class="input">${escapeHtml(f.value ?? "")}</div>`;
      return `<div class="field"><label>${escapeHtml(f.label)}</label>${box}${f.help ? `<div class="help">${helpHtml(f.help)}</div>` : ""}</div>`;
    })
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${CSS}
body { background: rgba(0,0,0,.35); }
.dialog { width: 560px; margin: 18px auto; background: #fff; border-radius: 6px; box-shadow: 0 6px 24px rgba(0,0,0,.3); }
.dialog h2 { font-size: 18px; font-weight: 600; margin: 0; padding: 18px 24px 4px; }
.dialog .sub { padding: 0 24px 8px; color: var(--secondary); font-size: 12.5px; }
.dialog .body { padding: 4px 24px 8px; }
.field { margin: 10px 0; }
.field label { display: block; font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.input { border: 1px solid rgba(0,0,0,.3); border-radius: 2px; min-height: 30px; padding: 5px 8px; font-size: 13px; }
.input.area { min-height: 46px; }
.input.combo { display: flex; justify-content: space-between; }
.schemes { font-size: 13px; padding: 4px 0; white-space: pre; }
.help { color: var(--secondary); font-size: 11.5px; margin-top: 3px; }
.help code { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; }
.buttons { display: flex; justify-content: flex-end; gap: 8px; padding: 12px 24px 18px; }
.button { border-radius: 2px; padding: 6px 16px; font-weight: 600; font-size: 13px; border: 1px solid rgba(0,0,0,.3); }
.button.primary { background: var(--blue); color: #fff; border-color: var(--blue); }
</style></head><body>
<div class="dialog"><h2>New ${escapeHtml(endpoint.displayName)} service connection</h2>
<div class="sub">Project settings › Service connections</div>
<div class="body">${fields}</div>
<div class="buttons"><div class="button">Verify</div><div class="button">Cancel</div><div class="button primary">Verify and save</div></div></div>
</body></html>`;
}

/** The step's log as the pipeline's log view shows it, with the time of each line. */
function logPage(title: string, log: string): string {
  const lines = log
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l, i) => `<div class="line"><span class="n">${i + 1}</span>${escapeHtml(l)}</div>`)
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
body { margin: 0; background: #1e1e1e; color: #d4d4d4; font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; }
.head { background: #2d2d2d; color: #fff; font-family: "Open Sans", sans-serif; font-size: 14px; font-weight: 600; padding: 10px 16px; }
.lines { padding: 8px 0; }
.line { white-space: pre-wrap; padding: 1px 16px 1px 56px; text-indent: -40px; line-height: 1.5; }
.n { display: inline-block; width: 32px; margin-right: 8px; color: #6e7681; text-align: right; text-indent: 0; }
</style></head><body><div class="head">${escapeHtml(title)}</div><div class="lines">${lines}</div></body></html>`;
}

/** The log as a reader sees it without System.Debug: the task's lines, no debug and no consumed commands. */
function readerLog(run: TaskRun): string {
  const lines = run.stdout.split(/\r?\n/).filter((l) => l.trim() && !l.includes("##vso["));
  return [...lines, `##[section]Finishing: ${run.resultMessage ?? ""}`].join("\n");
}

async function runDeploys(workspace: string, restUrl: string, jars: { v1: string; v2: string }): Promise<Step[]> {
  const steps: Step[] = [];
  const jar = path.join(workspace, "target", "orders-enrichment-1.0.jar");
  fs.mkdirSync(path.dirname(jar), { recursive: true });
  const deploy = async (name: string, displayName: string, source: string, healthCheckSeconds: string): Promise<TaskRun> => {
    fs.copyFileSync(source, jar);
    const run = await runTask({
      task: "FlinkJobDeploy",
      inputs: { flinkConnection: CONNECTION_ID, jobName: "orders-enrichment", jarFile: "target/orders-enrichment-*.jar", args: "--records-per-second 50", healthCheckSeconds, pollingIntervalInSeconds: "5" },
      connection: { id: CONNECTION_ID, url: `${restUrl}/`, scheme: "None", parameters: {}, data: {} },
      env: { SYSTEM_DEFAULTWORKINGDIRECTORY: workspace },
      timeoutMs: 300_000,
    });
    if (run.result !== "Succeeded") throw new Error(`${displayName} ended ${run.result}: ${run.resultMessage}\n${run.visibleLog}`);
    process.stdout.write(`${displayName}: ${run.resultMessage}\n`);
    steps.push({ name, displayName, task: "FlinkJobDeploy", run });
    return run;
  };
  await deploy("deploy1", "Deploy 1.0", jars.v1, "10");
  await deploy("deploy2", "Deploy 1.1", jars.v2, "45");
  return steps;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outDir = path.resolve(args.includes("--out-dir") ? args[args.indexOf("--out-dir") + 1]! : path.join(root, "images"));
  const keepHtml = args.includes("--keep-html");
  const chromium = findChromium();
  const { marked } = await import("marked");
  await buildTasks({ only: taskFolders() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flink-pictures-"));
  const version = CI_FLINK_VERSIONS[0]!;
  const jars = await buildTestJobJars(version);
  const cluster = await startFlinkCluster({ version, checkpointIntervalMs: 5000 });
  let steps: Step[];
  try {
    steps = await runDeploys(path.join(dir, "workspace"), cluster.restUrl, jars);
  } finally {
    await cluster.stop();
  }
  const shots: Array<[string, string, { width: number; height: number }]> = [
    ["flink-run-summary.png", renderPage(marked, steps, false), { width: 1000, height: 900 }],
    ["flink-deploy-log.png", logPage("Deploy 1.1 (FlinkJobDeploy)", readerLog(steps[1]!.run)), { width: 1000, height: 520 }],
    ["flink-connection.png", dialogPage(apacheFlinkEndpoint()), { width: 1000, height: 800 }],
  ];
  for (const [name, html, size] of shots) {
    const htmlFile = path.join(dir, name.replace(/\.png$/, ".html"));
    fs.writeFileSync(htmlFile, html);
    screenshot(chromium, htmlFile, path.join(outDir, name), { out: path.join(outDir, name), scale: 1, keepHtml, expandAll: false, ...size });
    process.stdout.write(`${path.relative(root, path.join(outDir, name))} written\n`);
  }
  if (!keepHtml) fs.rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`pages kept in ${dir}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
