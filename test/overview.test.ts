/**
 * overview.md is the Marketplace page: its examples are what users copy. Every YAML block must
 * parse and plan, use only inputs and output variables the tasks have, and the messages it
 * quotes must still be the ones the code prints.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isSeq, parseDocument, type Document } from "yaml";
import { planPipeline } from "../pipeline-runner/pipeline";
import { loadTaskCatalog, parseTaskReference, type TaskDefinition } from "../pipeline-runner/task-catalog";
import { apacheFlinkEndpoint, connectionDialogFields } from "../scripts/flink-pictures";
import { targetInput } from "../src/validation/common-inputs";

const root = path.resolve(__dirname, "..");
const overview = fs.readFileSync(path.join(root, "overview.md"), "utf8");
const catalog = loadTaskCatalog();
const TASKS = ["FlinkJobDeploy", "FlinkJobSubmit", "FlinkJobStop", "FlinkJobStart", "FlinkJobUpdate", "FlinkSavepoint", "FlinkJobCancel", "FlinkJobDelete", "FlinkJobStatus"];
/** Predefined variable namespaces a `$(a.b)` may use without being a step's output. */
const PREDEFINED = new Set(["agent", "build", "system", "pipeline", "release", "environment", "resources", "strategy", "checks"]);

interface Block {
  line: number;
  text: string;
}

interface TaskStep {
  block: Block;
  job: string | undefined;
  reference: string;
  name: string | undefined;
  task: TaskDefinition | undefined;
  inputs: Record<string, unknown>;
}

function yamlBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```ya?ml[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    blocks.push({ line: markdown.slice(0, m.index).split("\n").length, text: m[1]! });
  }
  return blocks;
}

function where(block: Block): string {
  return `overview.md, the YAML block at line ${block.line}`;
}

/** Every task step in a parsed block, with the job it sits in. */
function taskSteps(block: Block, value: unknown, job: string | undefined = undefined): TaskStep[] {
  const found: TaskStep[] = [];
  if (Array.isArray(value)) {
    for (const item of value) found.push(...taskSteps(block, item, job));
  } else if (value && typeof value === "object") {
    const map = value as Record<string, unknown>;
    const thisJob = typeof map["job"] === "string" ? map["job"] : typeof map["deployment"] === "string" ? map["deployment"] : job;
    if (typeof map["task"] === "string") {
      const reference = map["task"];
      found.push({
        block,
        job: thisJob,
        reference,
        name: typeof map["name"] === "string" ? map["name"] : undefined,
        task: catalog.get(parseTaskReference(reference).name.toLowerCase()),
        inputs: (map["inputs"] as Record<string, unknown> | undefined) ?? {},
      });
    }
    for (const [key, child] of Object.entries(map)) if (key !== "inputs") found.push(...taskSteps(block, child, thisJob));
  }
  return found;
}

function inputByKey(task: TaskDefinition, key: string) {
  return task.inputs.find((i) => i.name === key || (i.aliases ?? []).includes(key));
}

const blocks = yamlBlocks(overview);
const parsed = new Map<Block, Document>(blocks.map((b) => [b, parseDocument(b.text)]));
const steps = blocks.flatMap((b) => taskSteps(b, parsed.get(b)!.toJS()));
/** Step name → task, over the whole page: one name means one task everywhere. */
const stepTasks = new Map<string, TaskDefinition>();
for (const s of steps) if (s.name && s.task && !stepTasks.has(s.name)) stepTasks.set(s.name, s.task);

describe("overview.md (the Marketplace page)", () => {
  it("has YAML blocks, and every one parses", () => {
    assert.ok(blocks.length >= TASKS.length, `only ${blocks.length} YAML blocks`);
    for (const block of blocks) {
      const doc = parsed.get(block)!;
      assert.deepEqual(doc.errors.map((e) => e.message), [], where(block));
      assert.ok(isMap(doc.contents) || isSeq(doc.contents), `${where(block)} is neither a mapping nor a list`);
    }
  });

  it("has a YAML example for each of the tasks, referenced as Task@<major>", () => {
    for (const name of TASKS) {
      const task = catalog.get(name.toLowerCase());
      assert.ok(task, `${name} has no task.json`);
      const uses = steps.filter((s) => s.task === task);
      assert.ok(uses.length, `no YAML example uses ${name}`);
      for (const s of uses) assert.equal(s.reference, `${name}@${task.majorVersion}`, where(s.block));
    }
    for (const s of steps) assert.ok(s.task, `${where(s.block)}: ${s.reference} is not one of this extension's tasks`);
  });

  it("uses only input names (or aliases) of each task's task.json, gives every required input, and valid option values", () => {
    for (const s of steps) {
      const task = s.task!;
      const label = `${where(s.block)}, step ${s.name ?? s.reference}`;
      for (const [key, value] of Object.entries(s.inputs)) {
        const input = inputByKey(task, key);
        assert.ok(input, `${label}: '${key}' is not an input of ${task.name} (inputs: ${task.inputs.map((i) => i.name).join(", ")})`);
        const options = (input as { options?: Record<string, string> }).options;
        const editable = (input as { properties?: Record<string, string> }).properties?.["EditableOptions"] === "True";
        if (options && !editable && typeof value === "string" && !value.includes("$(")) {
          assert.ok(value in options, `${label}: ${key}: '${value}' is not one of ${Object.keys(options).join(", ")}`);
        }
      }
      // A required input is required where it shows: its visibleRule holds for the step (defaults included).
      // `target` as the task decides it: a flinkConnection without azureSubscription means flinkRest.
      const valueOf = (name: string) =>
        name === "target"
          ? targetInput((n) => (typeof s.inputs[n] === "string" ? (s.inputs[n] as string) : undefined))
          : String(s.inputs[name] ?? (task.inputs.find((i) => i.name === name) as { defaultValue?: string } | undefined)?.defaultValue ?? "");
      const shown = (rule: string | undefined) =>
        !rule || rule.split("&&").every((clause) => {
          const [name, value] = clause.split(/!=|=/).map((x) => x.trim());
          return clause.includes("!=") ? valueOf(name!) !== value : valueOf(name!) === value;
        });
      for (const input of task.inputs.filter((i) => i.required && shown((i as { visibleRule?: string }).visibleRule))) {
        const given = [input.name, ...(input.aliases ?? [])].some((k) => k in s.inputs);
        assert.ok(given, `${label}: required input '${input.name}' of ${task.name} is missing`);
      }
    }
  });

  it("gives each step name to one task only, so $(name.variable) means one thing on the page", () => {
    for (const s of steps) {
      if (s.name && s.task) assert.equal(stepTasks.get(s.name), s.task, `${where(s.block)}: step '${s.name}' is ${s.task.name} here but ${stepTasks.get(s.name)?.name} elsewhere`);
    }
  });

  it("reads only output variables the named step's task sets: $(step.var)", () => {
    let checked = 0;
    for (const block of blocks) {
      for (const m of block.text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_.]*)\)/g)) {
        const [whole, prefix, variable] = [m[0], m[1]!, m[2]!];
        const task = stepTasks.get(prefix);
        if (!task) {
          assert.ok(PREDEFINED.has(prefix.toLowerCase()), `${where(block)}: ${whole} names no step of the page and no predefined variable`);
          continue;
        }
        assert.ok(task.outputVariables.includes(variable), `${where(block)}: ${whole}: ${task.name} has no output variable '${variable}' (it has ${task.outputVariables.join(", ")})`);
        checked++;
      }
    }
    assert.ok(checked >= 5, `only ${checked} $(step.var) references checked`);
  });

  it("reads later jobs' outputs as dependencies.<job>.outputs['<step>.<var>'] of a step in that job", () => {
    let checked = 0;
    for (const block of blocks) {
      const pattern = /(?:stageDependencies\.[A-Za-z_][\w]*|dependencies)\.([A-Za-z_][\w]*)\.outputs\[\s*'([^']+)'\s*\]/g;
      for (const m of block.text.matchAll(pattern)) {
        const [whole, job, key] = [m[0], m[1]!, m[2]!];
        const parts = key.split(".");
        // A deployment job's outputs are '<job>.<step>.<var>'.
        const [stepName, variable] = parts.length === 3 && parts[0] === job ? [parts[1]!, parts[2]!] : [parts[0]!, parts[1]];
        assert.ok(variable && parts.length <= 3, `${where(block)}: ${whole} is not '<step>.<variable>'`);
        const step = steps.find((s) => s.block === block && s.job === job && s.name === stepName);
        assert.ok(step?.task, `${where(block)}: ${whole}: job '${job}' of this block has no task step named '${stepName}'`);
        assert.ok(step.task.outputVariables.includes(variable), `${where(block)}: ${whole}: ${step.task.name} has no output variable '${variable}'`);
        checked++;
      }
    }
    assert.ok(checked >= 1, "no dependencies.<job>.outputs[…] reference on the page");
  });

  it("lists every output variable of the tasks in its output variables table", () => {
    const section = overview.split(/^## Output variables$/m)[1]?.split(/^## /m)[0] ?? "";
    const listed = new Set([...section.matchAll(/^\| `([A-Za-z][A-Za-z0-9]*)` \|/gm)].map((m) => m[1]));
    const all = new Set([...catalog.values()].flatMap((t) => t.outputVariables));
    assert.deepEqual([...listed].sort(), [...all].sort());
  });

  it("plans every block with the pipeline runner's planner: our tasks resolved, no unknown inputs", () => {
    for (const block of blocks) {
      const plan = planPipeline(block.text, { catalog });
      for (const step of plan.steps.filter((s) => s.kind === "task")) {
        assert.ok(step.task, `${where(block)}: ${step.taskReference}: ${step.notRunReason}`);
        assert.deepEqual(step.warnings, [], `${where(block)}, step ${step.name}`);
      }
    }
  });

  it("has a full lifecycle pipeline: submit → wait RUNNING → savepoint → stop → start from the stop's savepoint → update → cancel → delete, across jobs", () => {
    const order = ["FlinkJobSubmit", "FlinkJobStatus", "FlinkSavepoint", "FlinkJobStop", "FlinkJobStart", "FlinkJobUpdate", "FlinkJobCancel", "FlinkJobDelete"];
    const lifecycle = blocks.find((b) => {
      const tasks = planPipeline(b.text, { catalog }).steps.filter((s) => s.task).map((s) => s.task!.name);
      return JSON.stringify(tasks) === JSON.stringify(order);
    });
    assert.ok(lifecycle, `no YAML block runs exactly ${order.join(" → ")}`);
    const plan = planPipeline(lifecycle.text, { catalog });
    const byTask = (name: string) => plan.steps.find((s) => s.task?.name === name)!;
    assert.equal(byTask("FlinkJobStatus").inputs["waitForStatus"], "RUNNING");
    assert.equal(byTask("FlinkSavepoint").inputs["operation"], "trigger");
    assert.equal(byTask("FlinkJobStart").inputs["startMode"], "savepoint");
    assert.equal(byTask("FlinkJobStart").inputs["savepointName"], `$(${byTask("FlinkJobStop").name}.savepointPath)`);
    const jobs = plan.stages.flatMap((s) => s.jobs);
    assert.ok(jobs.length >= 2, "the lifecycle should hand outputs to a later job");
    const cancelJob = jobs.find((j) => j.name === byTask("FlinkJobCancel").job)!;
    assert.notEqual(cancelJob.name, byTask("FlinkJobSubmit").job, "cancel and delete run in a later job than submit");
    assert.ok(cancelJob.dependsOn.length, `job ${cancelJob.name} depends on no job`);
    const fromDependencies = [...jobs.flatMap((j) => j.variables)].filter((v) => /dependencies\.\w+\.outputs\[/.test(v.value));
    assert.ok(fromDependencies.length, "no job variable reads dependencies.<job>.outputs[…]");
  });

  it("references only images that exist under images/ as PNG (the packager copies images/*.png)", () => {
    const images = [...overview.matchAll(/!\[[^\]]*\]\(\s*([^)\s]+)[^)]*\)|<img[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    // Made by scripts/flink-pictures.ts from real runs and the manifest; run-summary.png by scripts/summary-screenshot.ts.
    for (const made of ["images/flink-run-summary.png", "images/flink-deploy-log.png", "images/flink-connection.png", "images/run-summary.png"]) {
      assert.ok(images.includes(made), `${made} is not shown`);
    }
    for (const image of images) {
      assert.match(image, /^images\/[^/]+\.png$/, `${image}: use a relative images/<name>.png path`);
      assert.ok(fs.existsSync(path.join(root, image)), `${image} does not exist`);
    }
  });

  it("is for the Flink user first: the listing's title, any Flink 1.20/2.x, a quick start with one FlinkJobDeploy step on the first screens", () => {
    const ext = JSON.parse(fs.readFileSync(path.join(root, "vss-extension.json"), "utf8")) as { name: string; description: string };
    assert.equal(overview.split("\n")[0], `# ${ext.name}`, "the page's title is not the listing's name");
    assert.match(ext.description, /Apache Flink/);
    const firstScreens = overview.slice(0, 3000);
    assert.match(firstScreens, /Apache Flink 1\.20 or 2\.x/);
    assert.doesNotMatch(firstScreens, /retired on/, "the retirement note belongs to the HDInsight on AKS section");
    const quickStart = overview.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? "";
    const block = yamlBlocks(quickStart)[0];
    assert.ok(block, "the quick start has no YAML step");
    assert.ok(block.text.split("\n").filter((l) => l.trim()).length <= 10, "the quick start's YAML is longer than ten lines");
    const plan = planPipeline(block.text, { catalog });
    const deploy = plan.steps.find((st) => st.task?.name === "FlinkJobDeploy");
    assert.ok(deploy && deploy.inputs["flinkConnection"], "the quick start has no FlinkJobDeploy step with a flinkConnection");
    assert.equal(targetInput((n) => deploy.inputs[n]), "flinkRest");
    // The task table lists FlinkJobDeploy first.
    const table = overview.split(/^## Tasks$/m)[1]?.split(/^## /m)[0] ?? "";
    assert.match(table.split("\n").find((l) => l.startsWith("| `Flink")) ?? "", /^\| `FlinkJobDeploy@1`/);
  });

  it("draws the connection dialog from the ApacheFlink contribution of vss-extension.json, and names its fields as the page does", () => {
    const endpoint = apacheFlinkEndpoint();
    const fields = connectionDialogFields(endpoint);
    assert.ok(fields[0]!.label.startsWith(endpoint.url.displayName));
    for (const input of endpoint.inputDescriptors ?? []) assert.ok(fields.some((f) => f.label === input.name), `the dialog lacks ${input.name}`);
    assert.match(fields.find((f) => f.kind === "schemes")!.value ?? "", /None.*Basic.*Token.*Certificate/);
    const connection = overview.split(/^## The Apache Flink connection$/m)[1]?.split(/^## /m)[0] ?? "";
    assert.ok(connection.includes("](images/flink-connection.png)"), "the connection section does not show the dialog");
    for (const name of ["Allow credentials over http", "CA certificate"]) assert.ok(connection.includes(name), `the connection section does not name ${name}`);
  });

  it("states the retirement of HDInsight on AKS plainly, in that section of its own", () => {
    const section = overview.split(/^## HDInsight on AKS$/m)[1] ?? "";
    assert.ok(section.slice(0, 600).includes("HDInsight on AKS was retired on 31 January 2025"), "the HDInsight on AKS section does not open with the retirement");
  });

  it("quotes messages the code still prints (troubleshooting and waiting)", () => {
    const sources = (function read(dir: string): string {
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .map((e) => (e.isDirectory() ? read(path.join(dir, e.name)) : e.name.endsWith(".ts") ? fs.readFileSync(path.join(dir, e.name), "utf8") : ""))
        .join("\n");
    })(path.join(root, "src"));
    const phrases = [
      "HDInsight on AKS job names are lower case",
      "is not a target; use 'flinkRest'",
      "Did you mean '",
      "no file matches ",
      ", a path of Flink's REST API",
      "is the address of a page of Flink's web UI",
      "answered the TLS handshake in plain HTTP",
      "entry point class '",
      "main() failed: ",
      "left of waitTimeoutInMinutes",
      "s to go)",
      "connection's id, not its name",
      "uses the pipeline variable $(",
      "which is not defined, so the agent passed it as written",
      "holds a runtime expression $[ … ]",
      "uses the scheme '",
      "is not an abfs:// or abfss:// URI",
      "must be a file name only",
      "is not a .jar file name",
      "is not a fully qualified Java class name",
      "is not a whole number",
      "is out of range",
      "is not 'key=value'",
      "is not a valid JSON object of settings (line",
      "which the '",
      "is not a savepoint name such as savepoint-20e9e9-8a48c6b905e5, nor a full abfs[s]:// path",
      "applies only when '",
      "needs apiVersion ",
      "is not supported",
      "contains '##vso[' or '##['",
      "contains a control character",
      "choose an Azure Resource Manager service connection",
      "was not found, or this pipeline is not authorized to use it",
      "has no valid subscriptionId",
      "uses workload identity federation, but System.AccessToken is not available to the task",
      "System.OidcRequestUri is not set",
      "which this task does not support",
      "Could not get an access token",
      "Azure Resource Manager returned",
      "ended FAILED with status",
      "The cluster said:",
      "was not found on ",
      "Jobs on the cluster:",
      "so there is nothing to delete",
      "action still IN_PROGRESS",
      "wait for it to finish before running",
      "has no savepoint ",
      "Its savepoints:",
      "reached the failure status",
      "The action may still complete on the cluster",
      "waiting for job '",
      "The pipeline was cancelled while waiting for",
      "The action may continue on the cluster",
      "the service may have received the request",
      "request id ",
      "client request id ",
    ];
    for (const phrase of phrases) {
      assert.ok(overview.includes(phrase), `overview.md does not quote: ${phrase}`);
      // Source text may build the phrase from a template: compare with placeholders removed.
      const literal = phrase.replace(/'$/, "");
      assert.ok(sources.includes(literal), `no message in src/ says: ${phrase} (update the troubleshooting table)`);
    }
  });
});
