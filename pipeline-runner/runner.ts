/**
 * Runs a planned pipeline step by step the way the agent would: conditions against the job's
 * status, macros expanded from variables and earlier steps' output variables, each of our tasks
 * in a fresh Node process, its `##vso` commands applied (output variables, secrets, result).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bundlePath, runTask } from "./agent-process";
import type { RunnerConnection } from "./connection";
import { placeSampleJarIfMissing } from "./sample-jar";
import { targetInput } from "../src/validation/common-inputs";
import { type ConditionValue, conditionHolds, evaluateExpression, expandMacros, runtimeExpression, unexpandedMacros, VariableScope } from "./expressions";
import { classifyTaskLine, commandDisplay, formatDuration, formatTable, keyOutputs, RunLog } from "./log";
import type { PipelinePlan, PlannedJob, PlannedStage, PlannedStep, VariableDefinition } from "./pipeline";
import { isSettable } from "./task-catalog";

export type StepOutcome = "Succeeded" | "SucceededWithIssues" | "Failed" | "Skipped";

export interface StepResult {
  index: number;
  stage: string;
  job: string;
  name: string | undefined;
  displayName: string;
  /** `FlinkJobSubmit@1`, or the step kind (`script`, …) for steps that are not tasks. */
  task: string;
  result: StepOutcome;
  /** Why it was skipped, or the task's result message. */
  message: string;
  durationMs: number;
  /** The inputs the task received (azureSubscription: the connection's name, not its id). */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  errors: string[];
  warnings: string[];
  /** Where the step's run summary (Markdown, the agent's Extensions tab) was saved, if it wrote one. */
  summaryFile?: string;
}

export interface PipelineRunResult {
  result: "Succeeded" | "SucceededWithIssues" | "Failed";
  durationMs: number;
  steps: StepResult[];
}

/** What starts a task process; tests substitute their own. */
export interface TaskExecution {
  task: string;
  inputs: Record<string, string>;
  variables: Record<string, string>;
  env: Record<string, string>;
  timeoutMs: number;
  onLine: (line: string) => void;
}
export type TaskExecutor = (execution: TaskExecution) => Promise<{ exitCode: number | null; timedOut: boolean }>;

export interface RunOptions {
  connection: RunnerConnection;
  /** --var name=value: queue-time variables, winning over the YAML's. */
  variables?: Record<string, string>;
  log?: RunLog;
  executor?: TaskExecutor;
  /** File name for the header line. */
  source?: string;
  /** Folder for the steps' run summaries (created when the first is written); without it they are not kept. */
  summaryDir?: string;
  /** System.DefaultWorkingDirectory (the checkout: where `jarFile` patterns resolve); without it each task gets its own temporary folder. */
  workingDirectory?: string;
}

const DEFAULT_TIMEOUT_MINUTES = 60;
/**
 * Whether a step runs on a Flink cluster, as the task decides it (target, or a flinkConnection
 * without azureSubscription). A target the task refuses counts as Flink when a flinkConnection is
 * named: the task then says what is wrong with it.
 */
export function isFlinkRestStep(inputs: Record<string, string | undefined>): boolean {
  try {
    return targetInput((name) => inputs[name]) === "flinkRest";
  } catch {
    return !!inputs["flinkConnection"]?.trim();
  }
}

export function bundledTaskExecutor(connection: RunnerConnection): TaskExecutor {
  return async (execution) => {
    if (!fs.existsSync(bundlePath(execution.task))) throw new Error(`${bundlePath(execution.task)} is missing: run npm run build`);
    // The agent hands a task the id of each connection it names; a flinkRest step names the ApacheFlink one.
    const flinkRest = isFlinkRestStep(execution.inputs);
    if (flinkRest && !connection.flink) throw new Error("this step runs on a Flink cluster (target: flinkRest): give the Flink cluster's REST URL with --flink-url <url> (npm run flink -- start prints one)");
    if (!flinkRest && !connection.connection) throw new Error("this step runs on HDInsight on AKS: this run has no Azure connection (start one with --emulator, or run steps with target: flinkRest)");
    const flink = flinkRest ? connection.flink : undefined;
    const workingDirectory = execution.variables["System.DefaultWorkingDirectory"];
    const jarFile = execution.inputs["jarFile"]?.trim();
    if (flink?.sampleJar && jarFile && workingDirectory) {
      const note = await placeSampleJarIfMissing(jarFile, workingDirectory, flink.sampleJar);
      if (note) execution.onLine(note);
    }
    const run = await runTask({
      task: execution.task,
      inputs: flink ? { ...execution.inputs, flinkConnection: flink.connection.id } : execution.inputs,
      ...(connection.connection ? { connection: connection.connection } : {}),
      ...(flink ? { extraConnections: [flink.connection] } : {}),
      variables: execution.variables,
      env: { ...connection.env, ...execution.env },
      timeoutMs: execution.timeoutMs,
      onLine: (line) => execution.onLine(line),
    });
    return { exitCode: run.exitCode, timedOut: run.timedOut };
  };
}

/** `literal`: a value computed at run time (a `$[ ]` expression's), taken as it is. */
type Definition = VariableDefinition & { literal?: boolean };

function define(scope: VariableScope, definitions: Definition[]): VariableScope {
  for (const d of definitions) scope.set(d.name, d.value, { expand: !d.literal });
  return scope;
}

/** What `dependencies.…` and `stageDependencies.…` read: results and output variables of finished jobs. */
class Finished {
  private readonly outputs = new Map<string, Map<string, string>>();
  private readonly jobResults = new Map<string, StepOutcome>();
  readonly stageResults = new Map<string, StepOutcome>();

  private static key(stage: string, job: string): string {
    return `${stage}/${job}`.toLowerCase();
  }

  job(stage: string, job: string, result: StepOutcome, steps: StepResult[]): void {
    const outputs = new Map<string, string>();
    for (const step of steps) if (step.name) for (const [variable, value] of Object.entries(step.outputs)) outputs.set(`${step.name}.${variable}`.toLowerCase(), value);
    this.outputs.set(Finished.key(stage, job), outputs);
    this.jobResults.set(Finished.key(stage, job), result);
  }

  output(stage: string, job: string, key: string): string | null {
    return this.outputs.get(Finished.key(stage, job))?.get(key.toLowerCase()) ?? null;
  }

  result(stage: string, job: string): string | null {
    return this.jobResults.get(Finished.key(stage, job)) ?? null;
  }
}

const has = (list: string[], name: string) => list.some((n) => n.toLowerCase() === name.toLowerCase());

/**
 * Resolves dependency paths as Azure Pipelines does. In a job: `dependencies.<job>` names a job of
 * this stage that the job depends on, `stageDependencies.<stage>.<job>` a job of a stage this stage
 * depends on. In a stage: `dependencies.<stage>.outputs['<job>.<step>.<var>']`. Anything else is
 * null, as on the service; `why` collects the reason, for the log.
 */
type DependencyResolver = (path: string[], why?: string[]) => ConditionValue;

function dependencyResolver(finished: Finished, stage: PlannedStage, job: PlannedJob | undefined): DependencyResolver {
  return (path, why = []) => {
    const [root = "", first = "", ...rest] = path;
    const none = (reason: string): null => {
      why.push(reason);
      return null;
    };
    let stageName: string;
    let jobName: string | undefined;
    let tail: string[];
    if (root.toLowerCase() === "dependencies" && job) {
      if (!has(job.dependsOn, first)) return none(`job ${job.name} does not depend on '${first}' (dependsOn: ${job.dependsOn.join(", ") || "none"})`);
      [stageName, jobName, tail] = [stage.name, first, rest];
    } else if (root.toLowerCase() === "stagedependencies" && job) {
      if (!has(stage.dependsOn, first)) return none(`stage ${stage.name} does not depend on stage '${first}'`);
      [stageName, jobName, tail] = [first, rest[0], rest.slice(1)];
    } else if (root.toLowerCase() === "dependencies") {
      if (!has(stage.dependsOn, first)) return none(`stage ${stage.name} does not depend on stage '${first}'`);
      if (rest[0]?.toLowerCase() === "result") return finished.stageResults.get(first) ?? null;
      if (rest[0]?.toLowerCase() !== "outputs" || !rest[1]) return none("write outputs['<job>.<step>.<variable>'] or result");
      const [outputJob = "", ...key] = rest[1].split(".");
      return finished.output(first, outputJob, key.join("."));
    } else {
      return none("stageDependencies is read in jobs only");
    }
    if (!jobName) return none("name a job");
    if (tail[0]?.toLowerCase() === "result") return finished.result(stageName, jobName);
    if (tail[0]?.toLowerCase() !== "outputs" || !tail[1]) return none("write outputs['<step>.<variable>'] or result");
    // A deployment job's outputs are '<job>.<step>.<variable>'.
    const key = tail[1].split(".").length === 3 && tail[1].toLowerCase().startsWith(`${jobName.toLowerCase()}.`) ? tail[1].slice(jobName.length + 1) : tail[1];
    const value = finished.output(stageName, jobName, key);
    if (value === null) return none(`job ${jobName} set no output variable '${key}'`);
    return value;
  };
}

/** Variables with `$[ expression ]` values evaluated now (their dependencies have finished); the log says what each became. */
function evaluateVariables(definitions: VariableDefinition[], scope: VariableScope, dependency: DependencyResolver, note: (text: string) => void): Definition[] {
  return definitions.map((d) => {
    const expression = runtimeExpression(d.value);
    if (expression === undefined) return d;
    const missing: string[] = [];
    try {
      const dependencyValue = (path: string[]) => {
        const why: string[] = [];
        const v = dependency(path, why);
        if (v === null) missing.push(`${path.slice(0, -1).join(".")}['${path[path.length - 1]}']${why.length ? `: ${why.join("; ")}` : ""}`);
        return v;
      };
      const value = evaluateExpression(expression, { variables: scope, dependencyResults: () => [], dependency: dependencyValue });
      note(`variable ${d.name} = $[ ${expression} ] → '${value}'${missing.length ? ` (nothing in ${missing.join(", ")}; read as empty, as Azure Pipelines does)` : ""}`);
      return { name: d.name, value, literal: true };
    } catch (error) {
      note(`variable ${d.name}: $[ ${expression} ] is not supported by the local runner (${(error as Error).message}); it stays as written`);
      return d;
    }
  });
}

function worst(results: StepOutcome[]): StepOutcome {
  if (results.includes("Failed")) return "Failed";
  if (results.length === 0 || results.every((r) => r === "Skipped")) return "Skipped";
  return results.includes("SucceededWithIssues") ? "SucceededWithIssues" : "Succeeded";
}

export async function runPipeline(plan: PipelinePlan, options: RunOptions): Promise<PipelineRunResult> {
  const log = options.log ?? new RunLog();
  for (const secret of options.connection.secrets) log.secrets.add(secret);
  const executor = options.executor ?? bundledTaskExecutor(options.connection);
  const started = Date.now();
  const queueVariables = options.variables ?? {};
  const pipelineScope = define(new VariableScope(), [
    { name: "System.Debug", value: "false" },
    { name: "Build.BuildId", value: String(Math.floor(started / 1000)) },
    { name: "Build.BuildNumber", value: new Date(started).toISOString().slice(0, 10).replace(/-/g, "") + ".1" },
    { name: "Agent.OS", value: process.platform === "win32" ? "Windows_NT" : process.platform === "darwin" ? "Darwin" : "Linux" },
    ...(options.workingDirectory ? [{ name: "System.DefaultWorkingDirectory", value: options.workingDirectory }] : []),
    ...plan.variables,
  ]);
  const results: StepResult[] = [];
  const finished = new Finished();
  const stageResults = finished.stageResults;
  const total = plan.steps.length;

  log.line(
    `Pipeline ${options.source ?? ""}: ${total} step${total === 1 ? "" : "s"}; ${options.connection.connection ? `every service connection is ${options.connection.description}` : `service connection: ${options.connection.description}`}`,
  );
  if (options.connection.flink) log.line(`Every flinkConnection (steps with target: flinkRest) is ${options.connection.flink.description}`);
  if (options.workingDirectory) log.line(`System.DefaultWorkingDirectory is ${options.workingDirectory}`);
  for (const warning of plan.warnings) log.line(`note: ${warning}`);

  for (const stage of plan.stages) {
    const stageNotes: string[] = [];
    const stageDependency = dependencyResolver(finished, stage, undefined);
    const stageScope = define(new VariableScope(pipelineScope), evaluateVariables(stage.variables, pipelineScope, stageDependency, (n) => stageNotes.push(n)));
    const stageSkip = notRunning(stage.condition, stage.dependsOn, stageResults, stageScope, queueVariables, `stage ${stage.name}`, [], stageDependency);
    for (const n of stageNotes) log.line(`note: stage ${stage.name}: ${n}`);
    const jobResults = new Map<string, StepOutcome>();
    for (const job of stage.jobs) {
      const jobNotes: string[] = [];
      const dependency = dependencyResolver(finished, stage, job);
      const jobVariables = stageSkip || job.notRunReason ? job.variables : evaluateVariables(job.variables, stageScope, dependency, (n) => jobNotes.push(n));
      const jobSkip = stageSkip ?? job.notRunReason ?? notRunning(job.condition, job.dependsOn, jobResults, stageScope, queueVariables, `job ${job.name}`, jobVariables, dependency);
      const jobSteps = jobSkip
        ? job.steps.map((step) => skipped(step, jobSkip))
        : await runJob(stage, { ...job, variables: jobVariables }, stageScope, queueVariables, executor, log, total, jobNotes, options.summaryDir);
      if (jobSkip) {
        log.line();
        log.line(`${jobTitle(stage, job)}: skipped, ${jobSkip}`);
      }
      results.push(...jobSteps);
      // A job that ran is Succeeded even when each of its steps was skipped.
      const ran = worst(jobSteps.map((s) => s.result));
      jobResults.set(job.name, jobSkip ? "Skipped" : ran === "Skipped" ? "Succeeded" : ran);
      finished.job(stage.name, job.name, jobResults.get(job.name)!, jobSteps);
    }
    stageResults.set(stage.name, stageSkip ? "Skipped" : worst([...jobResults.values()]));
  }

  const outcome = worst(results.map((r) => r.result));
  const result = outcome === "Failed" ? "Failed" : outcome === "SucceededWithIssues" ? "SucceededWithIssues" : "Succeeded";
  const durationMs = Date.now() - started;
  log.line();
  const rows = results.map((r) => [String(r.index), r.displayName, r.task, r.result, r.result === "Skipped" ? "" : formatDuration(r.durationMs), r.result === "Skipped" ? r.message : keyOutputs(r.outputs)]);
  for (const line of formatTable(["#", "step", "task", "result", "duration", "outputs"], rows)) log.line(line);
  log.line();
  if (results.some((r) => r.summaryFile)) log.line(`Each step's run summary (what the agent shows on the run's Extensions tab) is a Markdown file in ${shortPath(options.summaryDir!)}`);
  log.line(`Pipeline ${result} in ${formatDuration(durationMs)}`);
  return { result, durationMs, steps: results };
}

function jobTitle(stage: PlannedStage, job: PlannedJob): string {
  const jobPart = job.implicit ? "Job" : `Job ${job.displayName}`;
  return stage.name === "__default" ? jobPart : `Stage ${stage.displayName || stage.name} › ${jobPart}`;
}

/** Why a stage or job does not run (its condition over its dependencies is false), or undefined. */
function notRunning(
  condition: string,
  dependsOn: string[],
  resultsSoFar: Map<string, StepOutcome>,
  scope: VariableScope,
  queueVariables: Record<string, string>,
  what: string,
  extraVariables: Definition[] = [],
  dependency?: DependencyResolver,
): string | undefined {
  const variables = define(define(new VariableScope(scope), extraVariables), Object.entries(queueVariables).map(([name, value]) => ({ name, value })));
  const holds = conditionHolds(condition, {
    variables,
    dependencyResults: (names) => (names.length ? names : dependsOn).map((n) => resultsSoFar.get(n) ?? "Skipped"),
    ...(dependency ? { dependency: (path: string[]) => dependency(path) } : {}),
  });
  return holds ? undefined : `condition '${condition}' of ${what} is false`;
}

/** The step's identity in its result; the rest is what happened. */
function stepIdentity(step: PlannedStep, task: string) {
  return { index: step.index, stage: step.stage, job: step.job, name: step.name, displayName: step.displayName, task: step.taskReference ?? task };
}

function skipped(step: PlannedStep, reason: string): StepResult {
  return { ...stepIdentity(step, step.kind), result: "Skipped", message: reason, durationMs: 0, inputs: {}, outputs: {}, errors: [], warnings: [] };
}

async function runJob(
  stage: PlannedStage,
  job: PlannedJob,
  stageScope: VariableScope,
  queueVariables: Record<string, string>,
  executor: TaskExecutor,
  log: RunLog,
  total: number,
  notes: string[] = [],
  summaryDir?: string,
): Promise<StepResult[]> {
  // Queue-time variables win over the YAML's; output variables are added to this job's scope only.
  const jobScope = define(new VariableScope(stageScope), [
    { name: "System.StageName", value: stage.name },
    { name: "System.JobName", value: job.name },
    { name: "System.JobDisplayName", value: job.displayName },
    ...job.variables,
  ]);
  define(jobScope, Object.entries(queueVariables).map(([name, value]) => ({ name, value })));
  log.line();
  log.line(`══ ${jobTitle(stage, job)} ══`);
  for (const n of notes) log.line(`note: ${n}`);
  let jobStatus: StepOutcome = "Succeeded";
  const results: StepResult[] = [];
  for (const step of job.steps) {
    const title = `── Step ${step.index}/${total}: ${step.displayName} (${step.taskReference ?? step.kind})`;
    let reason = step.notRunReason;
    if (!reason && !conditionHolds(step.condition, { variables: jobScope, dependencyResults: () => [jobStatus] })) {
      reason = `condition '${step.condition}' is false (job status so far: ${jobStatus})`;
    }
    if (reason) {
      log.line(`${title}: skipped, ${reason}`);
      // What the step would have run, macros expanded: shows which outputs reach it.
      if (step.script !== undefined && !step.notRunReason?.startsWith("disabled")) for (const line of expandMacros(step.script, jobScope).trimEnd().split("\n")) log.line(`   | ${line}`);
      results.push(skipped(step, reason));
      continue;
    }
    log.line(title);
    const result = await runStep(step, job, jobScope, executor, log, summaryDir);
    if (result.result === "Failed") jobStatus = "Failed";
    else if (result.result === "SucceededWithIssues" && jobStatus === "Succeeded") jobStatus = "SucceededWithIssues";
    // The message is shown once: a failing task has usually logged it as an error already.
    const message = result.message && result.result !== "Succeeded" && !result.errors.includes(result.message) ? `: ${result.message}` : "";
    for (const line of `${result.result}${message} (${formatDuration(result.durationMs)})`.split(/\r?\n/)) log.line(`   ${line}`);
    results.push(result);
  }
  return results;
}

async function runStep(step: PlannedStep, job: PlannedJob, jobScope: VariableScope, executor: TaskExecutor, log: RunLog, summaryDir: string | undefined): Promise<StepResult> {
  const task = step.task!;
  const debug = (jobScope.get("System.Debug") ?? "").toLowerCase() === "true";
  const show = (text: string) => text.split(/\r?\n/).forEach((line) => log.line(`   ${line}`));
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.inputs)) {
    inputs[name] = expandMacros(value, jobScope);
    for (const macro of unexpandedMacros(inputs[name])) show(`note: input ${name}: $(${macro}) is not a variable here and is passed as written`);
    if (/\$\[/.test(inputs[name])) show(`note: input ${name}: a runtime expression $[ … ] is evaluated only in variables: and conditions (as in Azure Pipelines), not in inputs; passed as written`);
    if (/\$\{\{/.test(inputs[name])) show(`note: input ${name}: this template expression \${{ … }} is not expanded by the local runner; passed as written`);
  }
  for (const warning of step.warnings) show(`note: ${warning}`);
  const env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, expandMacros(v, jobScope)]));

  const outputs: Record<string, string> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  let completed: { result: string; message: string } | undefined;
  let summaryFile: string | undefined;
  // The task's own file lives in its temporary folder, gone when it ends: keep a copy.
  const keepSummary = (source: string) => {
    if (!summaryDir || !fs.existsSync(source)) return;
    fs.mkdirSync(summaryDir, { recursive: true });
    const target = path.join(summaryDir, `${String(step.index).padStart(2, "0")}-${(step.name ?? task.name).replace(/[^\w.-]+/g, "_")}.md`);
    if (summaryFile === target) fs.appendFileSync(target, `\n${fs.readFileSync(source, "utf8")}`);
    else fs.copyFileSync(source, target);
    summaryFile = target;
  };
  const onLine = (line: string) => {
    const effect = classifyTaskLine(line);
    if (effect.kind === "show") {
      if (line) show(line);
      return;
    }
    if (effect.shownBefore) show(effect.shownBefore);
    const { command, properties, message } = effect;
    switch (command) {
      case "task.setvariable": {
        const variable = properties["variable"] ?? "";
        if (!variable) break;
        if (!isSettable(task, variable)) {
          show(`WARNING: ${task.name} may not set the variable '${variable}' (restrictions.settableVariables); ignored`);
          break;
        }
        if ((properties["issecret"] ?? "").toLowerCase() === "true") log.secrets.add(message);
        if ((properties["isOutput"] ?? properties["isoutput"] ?? "").toLowerCase() === "true") {
          outputs[variable] = message;
          // Output variables are addressed by the step's name, like the agent does.
          if (step.name) jobScope.set(`${step.name}.${variable}`, message, { expand: false });
        } else {
          jobScope.set(variable, message, { expand: false });
        }
        break;
      }
      case "task.setsecret":
        log.secrets.add(message);
        break;
      case "task.uploadsummary":
        keepSummary(message);
        break;
      case "task.addattachment":
        if ((properties["type"] ?? "").toLowerCase() === "distributedtask.core.summary") keepSummary(message);
        break;
      case "task.complete":
        completed = { result: properties["result"] ?? "", message };
        break;
      case "task.issue":
      case "task.logissue":
        if ((properties["type"] ?? "").toLowerCase() === "error") errors.push(message);
        else if ((properties["type"] ?? "").toLowerCase() === "warning") warnings.push(message);
        break;
    }
    const display = commandDisplay(command, properties, message, debug);
    if (display !== undefined) show(display);
  };

  const started = Date.now();
  const timeoutMinutes = step.timeoutInMinutes || job.timeoutInMinutes || DEFAULT_TIMEOUT_MINUTES;
  // The agent hands the task the connection's id, not its name: the executor's connection supplies it.
  const { azureSubscription: connectionName, ...taskInputs } = inputs;
  const flinkRest = isFlinkRestStep(inputs);
  const named = flinkRest ? inputs["flinkConnection"] : connectionName;
  let exit: { exitCode: number | null; timedOut: boolean };
  if (named === undefined || named.trim() === "") {
    // Without this check the runner's one connection would quietly stand in for a missing input.
    exit = { exitCode: null, timedOut: false };
    completed = {
      result: "Failed",
      message: flinkRest ? "Input required: flinkConnection (name the ApacheFlink service connection)" : "Input required: azureSubscription (name the Azure Resource Manager service connection)",
    };
    show(`ERROR: ${completed.message}`);
  } else {
    try {
      exit = await executor({ task: task.name, inputs: taskInputs, variables: jobScope.all(), env, timeoutMs: timeoutMinutes * 60_000, onLine });
    } catch (error) {
      exit = { exitCode: null, timedOut: false };
      completed = { result: "Failed", message: `could not start the task: ${(error as Error).message}` };
      show(`ERROR: ${completed.message}`);
    }
  }
  let result: StepOutcome;
  let message = completed?.message ?? "";
  if (exit.timedOut) {
    result = "Failed";
    message = `the step ran past its ${timeoutMinutes}-minute timeout and was stopped`;
  } else if (exit.exitCode !== 0 && exit.exitCode !== null) {
    result = "Failed";
    message ||= `the task exited with code ${exit.exitCode}`;
  } else if (completed?.result === "Failed" || exit.exitCode === null) {
    result = "Failed";
    message ||= "the task process ended abnormally";
  } else if (completed?.result === "SucceededWithIssues") result = "SucceededWithIssues";
  else result = "Succeeded";
  if (result === "Failed" && step.continueOnError) {
    result = "SucceededWithIssues";
    message = `failed, but continueOnError is set: ${message}`;
  }
  if (summaryFile) show(`Run summary: ${shortPath(summaryFile)}`);
  return { ...stepIdentity(step, task.name), result, message, durationMs: Date.now() - started, inputs, outputs, errors, warnings, ...(summaryFile ? { summaryFile } : {}) };
}

/** A path as the user can type it from here: relative below the current folder, else absolute. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
