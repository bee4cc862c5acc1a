/** Our tasks as the pipeline sees them: names, major versions, inputs (defaults, aliases), allowed variables. */
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./agent-process";

export interface TaskInputDefinition {
  name: string;
  type: string;
  defaultValue?: string;
  aliases?: string[];
  required?: boolean;
}

export interface TaskDefinition {
  name: string;
  majorVersion: number;
  /** How the classic editor names a step, e.g. "Submit Flink job $(jobName)". */
  instanceNameFormat: string;
  inputs: TaskInputDefinition[];
  outputVariables: string[];
  /** restrictions.settableVariables.allowed; undefined = no restriction. */
  settableVariables?: string[];
}

interface TaskJson {
  name: string;
  version: { Major: number };
  instanceNameFormat?: string;
  inputs?: TaskInputDefinition[];
  outputVariables?: { name: string }[];
  restrictions?: { settableVariables?: { allowed?: string[] } };
}

export function loadTaskCatalog(tasksDir = path.join(repoRoot, "tasks")): Map<string, TaskDefinition> {
  const catalog = new Map<string, TaskDefinition>();
  for (const folder of fs.readdirSync(tasksDir).sort()) {
    const file = path.join(tasksDir, folder, "task.json");
    if (!fs.existsSync(file)) continue;
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as TaskJson;
    const allowed = json.restrictions?.settableVariables?.allowed;
    catalog.set(json.name.toLowerCase(), {
      name: json.name,
      majorVersion: json.version.Major,
      instanceNameFormat: json.instanceNameFormat ?? json.name,
      inputs: json.inputs ?? [],
      outputVariables: (json.outputVariables ?? []).map((o) => o.name),
      ...(allowed ? { settableVariables: allowed } : {}),
    });
  }
  return catalog;
}

export interface TaskReference {
  /** The name as written after any publisher.extension prefix. */
  name: string;
  /** Major version; undefined when the reference has no @version. */
  major: number | undefined;
}

/** `FlinkJobSubmit@1` or `publisher.extension.FlinkJobSubmit@1`. */
export function parseTaskReference(reference: string): TaskReference {
  const [qualified = "", version] = reference.trim().split("@");
  const name = qualified.slice(qualified.lastIndexOf(".") + 1);
  const major = version === undefined || version === "" ? undefined : Number.parseInt(version, 10);
  return { name, major: major !== undefined && Number.isFinite(major) ? major : undefined };
}

/** What the agent would hand a task as a string: booleans "true"/"false", numbers as written, null as "". */
export function inputValueToString(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  // A mapping or a list is not a valid input value; the agent would pass its JSON.
  return JSON.stringify(value);
}

export interface ResolvedInputs {
  /** Canonical input name → value, defaults filled in. */
  inputs: Record<string, string>;
  /** Keys given in YAML that the task does not have. */
  unknown: string[];
}

/** Maps YAML `inputs:` onto a task's inputs: aliases to names (case-insensitive), then defaults. */
export function resolveInputs(definition: TaskDefinition, given: Record<string, unknown>): ResolvedInputs {
  const byName = new Map<string, string>();
  for (const input of definition.inputs) {
    byName.set(input.name.toLowerCase(), input.name);
    for (const alias of input.aliases ?? []) byName.set(alias.toLowerCase(), input.name);
  }
  const inputs: Record<string, string> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    const name = byName.get(key.toLowerCase());
    if (!name) {
      unknown.push(key);
      continue;
    }
    // The name itself wins over an alias when both are given, as in the agent.
    if (name in inputs && key.toLowerCase() !== name.toLowerCase()) continue;
    inputs[name] = inputValueToString(value);
  }
  for (const input of definition.inputs) {
    if (!(input.name in inputs) && input.defaultValue !== undefined) inputs[input.name] = input.defaultValue;
  }
  return { inputs, unknown };
}

/** restrictions.settableVariables.allowed: case-insensitive patterns with `*` wildcards. */
export function isSettable(definition: TaskDefinition, variable: string): boolean {
  if (!definition.settableVariables) return true;
  return definition.settableVariables.some((pattern) => {
    const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
    return regex.test(variable);
  });
}
