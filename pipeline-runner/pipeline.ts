/**
 * Reads an Azure Pipelines YAML file into a plan: stages → jobs → steps in file order, with each
 * step's task resolved against our task.json files (aliases, defaults) but macros not yet expanded:
 * `$(submit.jobId)` only has a value once the step named `submit` has run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseCondition } from "./expressions";
import { loadTaskCatalog, parseTaskReference, resolveInputs, type TaskDefinition } from "./task-catalog";
import { expandTemplates, TemplateError } from "./templates";

export type VariableDefinition = { name: string; value: string };

export interface PlannedStep {
  /** 1-based position in the whole pipeline. */
  index: number;
  stage: string;
  job: string;
  /** `name:`, the reference later steps use for output variables. */
  name: string | undefined;
  displayName: string;
  /** `task`, `script`, `bash`, `pwsh`, `checkout`, … */
  kind: string;
  /** The task reference as written (`FlinkJobSubmit@1`), for task steps. */
  taskReference: string | undefined;
  /** Our task, when the step runs one of them. */
  task: TaskDefinition | undefined;
  /** Canonical input names with task.json defaults filled in, macros not expanded. */
  inputs: Record<string, string>;
  condition: string;
  continueOnError: boolean;
  timeoutInMinutes: number | undefined;
  /** The script body of script/bash/pwsh/powershell steps (shown, not run). */
  script: string | undefined;
  /** Step `env:` entries (macros not expanded). */
  env: Record<string, string>;
  /** Set when the runner will not run this step at all, and why. */
  notRunReason: string | undefined;
  warnings: string[];
}

export interface PlannedJob {
  stage: string;
  name: string;
  /** The job of a file with only `steps:`. */
  implicit: boolean;
  displayName: string;
  dependsOn: string[];
  condition: string;
  variables: VariableDefinition[];
  timeoutInMinutes: number | undefined;
  steps: PlannedStep[];
  notRunReason: string | undefined;
}

export interface PlannedStage {
  name: string;
  displayName: string;
  dependsOn: string[];
  condition: string;
  variables: VariableDefinition[];
  jobs: PlannedJob[];
}

export interface PipelinePlan {
  variables: VariableDefinition[];
  stages: PlannedStage[];
  /** Every step in run order. */
  steps: PlannedStep[];
  warnings: string[];
}

export class PipelineError extends Error {}

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asList(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PipelineError(`${where} must be a list`);
  return value;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function dependsOnList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === "") return [];
  return Array.isArray(value) ? value.map(scalar) : [scalar(value)];
}

/** `variables:` as a mapping or as a list of `- name/value` (groups and templates are noted, not read). */
export function readVariables(value: unknown, where: string, warnings: string[]): VariableDefinition[] {
  if (value === undefined || value === null) return [];
  if (isMap(value)) return Object.entries(value).map(([name, v]) => ({ name, value: scalar(v) }));
  if (!Array.isArray(value)) throw new PipelineError(`${where}: variables must be a mapping or a list`);
  const out: VariableDefinition[] = [];
  for (const entry of value) {
    if (isMap(entry) && "name" in entry) out.push({ name: scalar(entry["name"]), value: scalar(entry["value"]) });
    else if (isMap(entry) && "group" in entry) warnings.push(`${where}: variable group '${scalar(entry["group"])}' is not available locally; pass its values with --var name=value`);
    else if (isMap(entry) && "template" in entry) warnings.push(`${where}: variable template '${scalar(entry["template"])}' is not expanded by the local runner`);
    else throw new PipelineError(`${where}: a variables list entry needs name and value`);
  }
  return out;
}

const STEP_KINDS = ["task", "script", "bash", "pwsh", "powershell", "checkout", "download", "downloadBuild", "getPackage", "publish", "template", "reviewApp"];

function checkCondition(condition: string, where: string): string {
  try {
    parseCondition(condition);
  } catch (error) {
    throw new PipelineError(`${where}: ${(error as Error).message}`);
  }
  return condition;
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new PipelineError(`${what} must be a number of minutes, got '${scalar(value)}'`);
  return n;
}

export interface PlanOptions {
  catalog?: Map<string, TaskDefinition>;
  /** Folder that `template:` paths start from; without it templates are not expanded. */
  baseDir?: string;
  /** Values for the pipeline's own `parameters:`. */
  parameters?: Record<string, string>;
}

export function planPipelineFile(file: string, options: PlanOptions = {}): PipelinePlan {
  return planPipeline(fs.readFileSync(file, "utf8"), { baseDir: path.dirname(path.resolve(file)), ...options });
}

export function planPipeline(yamlText: string, options: PlanOptions = {}): PipelinePlan {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (error) {
    throw new PipelineError(`the file is not valid YAML: ${(error as Error).message}`);
  }
  if (!isMap(doc)) throw new PipelineError("a pipeline file is a mapping (trigger, variables, stages/jobs/steps …)");
  if ("extends" in doc) throw new PipelineError("'extends:' templates are not expanded by the local runner");
  const catalog = options.catalog ?? loadTaskCatalog();
  const warnings: string[] = [];
  try {
    const expanded = expandTemplates(doc, { baseDir: options.baseDir, ...(options.parameters ? { parameters: options.parameters } : {}) });
    doc = expanded.doc;
    warnings.push(...expanded.warnings);
  } catch (error) {
    if (error instanceof TemplateError) throw new PipelineError(error.message);
    throw error;
  }
  if (!isMap(doc)) throw new PipelineError("a pipeline file is a mapping");
  const variables = readVariables(doc["variables"], "pipeline", warnings);

  let stageSources: YamlMap[];
  if ("stages" in doc) stageSources = asList(doc["stages"], "stages").map((s) => (isMap(s) ? s : {}));
  else if ("jobs" in doc) stageSources = [{ stage: "__default", displayName: "", jobs: doc["jobs"] }];
  else if ("steps" in doc) stageSources = [{ stage: "__default", displayName: "", jobs: [{ job: "Job", displayName: "", steps: doc["steps"], implicit: true }] }];
  else throw new PipelineError("the pipeline has no stages, jobs or steps");

  const steps: PlannedStep[] = [];
  const stages: PlannedStage[] = [];
  let previousStage: string | undefined;
  for (const [stageIndex, source] of stageSources.entries()) {
    if ("template" in source) {
      warnings.push(`stage template '${scalar(source["template"])}' is not expanded by the local runner`);
      continue;
    }
    const stageName = scalar(source["stage"]) || `Stage_${stageIndex + 1}`;
    const stage: PlannedStage = {
      name: stageName,
      displayName: scalar(source["displayName"]) || (stageName === "__default" ? "" : stageName),
      // A stage depends on the one before it unless it says otherwise.
      dependsOn: dependsOnList(source["dependsOn"]) ?? (previousStage ? [previousStage] : []),
      condition: checkCondition(scalar(source["condition"]) || "succeeded()", `stage ${stageName}`),
      variables: readVariables(source["variables"], `stage ${stageName}`, warnings),
      jobs: [],
    };
    previousStage = stageName;
    for (const [jobIndex, jobSource] of asList(source["jobs"], `stage ${stageName}: jobs`).entries()) {
      if (!isMap(jobSource)) throw new PipelineError(`stage ${stageName}: job ${jobIndex + 1} is not a mapping`);
      const job = planJob(jobSource, jobIndex, stage, catalog, warnings, steps);
      stage.jobs.push(job);
    }
    stages.push(stage);
  }
  const names = new Map<string, string>();
  for (const step of steps) {
    if (!step.name) continue;
    const key = `${step.stage}/${step.job}/${step.name.toLowerCase()}`;
    if (names.has(key)) throw new PipelineError(`two steps of job ${step.job} are named '${step.name}'; step names must be unique within a job`);
    names.set(key, step.name);
  }
  return { variables, stages, steps, warnings };
}

function planJob(source: YamlMap, jobIndex: number, stage: PlannedStage, catalog: Map<string, TaskDefinition>, warnings: string[], allSteps: PlannedStep[]): PlannedJob {
  const isDeployment = "deployment" in source;
  const name = scalar(source["job"] ?? source["deployment"]) || `Job_${jobIndex + 1}`;
  const job: PlannedJob = {
    stage: stage.name,
    name,
    implicit: source["implicit"] === true,
    displayName: scalar(source["displayName"]) || name,
    dependsOn: dependsOnList(source["dependsOn"]) ?? [],
    condition: checkCondition(scalar(source["condition"]) || "succeeded()", `job ${name}`),
    variables: readVariables(source["variables"], `job ${name}`, warnings),
    timeoutInMinutes: optionalNumber(source["timeoutInMinutes"], `job ${name}: timeoutInMinutes`),
    steps: [],
    notRunReason: undefined,
  };
  let stepSources: unknown[];
  if ("template" in source) {
    job.notRunReason = `job template '${scalar(source["template"])}' is not expanded by the local runner`;
    stepSources = [];
  } else if (isDeployment) {
    // runOnce hooks in the order the service runs them; other strategies need environments we do not have.
    const strategy = isMap(source["strategy"]) ? source["strategy"] : {};
    const runOnce = isMap(strategy["runOnce"]) ? strategy["runOnce"] : undefined;
    if (!runOnce) {
      job.notRunReason = "only the runOnce deployment strategy is run locally";
      stepSources = [];
    } else {
      stepSources = ["preDeploy", "deploy", "routeTraffic", "postRouteTraffic"].flatMap((hook) => {
        const h = runOnce[hook];
        return isMap(h) ? asList(h["steps"], `deployment ${name}: ${hook}.steps`) : [];
      });
    }
  } else {
    const strategy = source["strategy"];
    if (isMap(strategy) && ("matrix" in strategy || "parallel" in strategy)) job.notRunReason = "matrix and parallel strategies are not run locally";
    stepSources = asList(source["steps"], `job ${name}: steps`);
  }
  if (job.notRunReason) warnings.push(`job ${name}: ${job.notRunReason}`);
  for (const stepSource of stepSources) {
    const step = planStep(stepSource, allSteps.length + 1, stage.name, job, catalog);
    job.steps.push(step);
    allSteps.push(step);
  }
  return job;
}

function planStep(source: unknown, index: number, stage: string, job: PlannedJob, catalog: Map<string, TaskDefinition>): PlannedStep {
  if (!isMap(source)) throw new PipelineError(`job ${job.name}: step ${index} is not a mapping`);
  const kind = STEP_KINDS.find((k) => k in source) ?? "unknown";
  const where = `job ${job.name}, step ${index}`;
  const name = source["name"] === undefined ? undefined : scalar(source["name"]);
  if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PipelineError(`${where}: step name '${name}' may hold only letters, digits and '_', and not start with a digit`);
  const step: PlannedStep = {
    index,
    stage,
    job: job.name,
    name,
    displayName: scalar(source["displayName"]),
    kind,
    taskReference: kind === "task" ? scalar(source["task"]) : undefined,
    task: undefined,
    inputs: {},
    condition: checkCondition(scalar(source["condition"]) || "succeeded()", where),
    continueOnError: scalar(source["continueOnError"]).toLowerCase() === "true",
    timeoutInMinutes: optionalNumber(source["timeoutInMinutes"], `${where}: timeoutInMinutes`),
    script: ["script", "bash", "pwsh", "powershell"].includes(kind) ? scalar(source[kind]) : undefined,
    env: isMap(source["env"]) ? Object.fromEntries(Object.entries(source["env"]).map(([k, v]) => [k, scalar(v)])) : {},
    notRunReason: undefined,
    warnings: [],
  };
  if (source["enabled"] !== undefined && scalar(source["enabled"]).toLowerCase() === "false") step.notRunReason = "disabled (enabled: false)";

  if (kind === "task") {
    const reference = parseTaskReference(step.taskReference ?? "");
    const definition = catalog.get(reference.name.toLowerCase());
    if (!definition) {
      step.notRunReason ??= `task ${step.taskReference} is not one of this extension's tasks`;
    } else {
      if (reference.major === undefined) throw new PipelineError(`${where}: task '${step.taskReference}' needs a major version, e.g. ${definition.name}@${definition.majorVersion}`);
      if (reference.major !== definition.majorVersion) {
        throw new PipelineError(`${where}: ${step.taskReference} asks for version ${reference.major}, but this extension's ${definition.name} is version ${definition.majorVersion}`);
      }
      step.task = definition;
      const given = source["inputs"] === undefined || source["inputs"] === null ? {} : source["inputs"];
      if (!isMap(given)) throw new PipelineError(`${where}: inputs must be a mapping`);
      const resolved = resolveInputs(definition, given);
      step.inputs = resolved.inputs;
      for (const key of resolved.unknown) step.warnings.push(`'${key}' is not an input of ${definition.name}; ignored`);
      step.displayName ||= definition.instanceNameFormat.replace(/\$\(([^()]+)\)/g, (whole, input: string) => step.inputs[input] ?? whole);
    }
  } else if (kind === "template") {
    step.notRunReason ??= `step template '${scalar(source["template"])}' is not expanded by the local runner`;
  } else if (kind === "unknown") {
    step.notRunReason ??= `not a step type the runner knows (keys: ${Object.keys(source).join(", ")})`;
  } else {
    step.notRunReason ??= `${kind} steps are not run by the local runner (only this extension's tasks are)`;
  }
  if (!step.displayName) {
    const body = scalar(source[kind]).split("\n")[0]!.trim();
    step.displayName = kind === "task" ? step.taskReference ?? "task" : `${kind}${body ? `: ${body.length > 60 ? `${body.slice(0, 57)}…` : body}` : ""}`;
  }
  return step;
}
