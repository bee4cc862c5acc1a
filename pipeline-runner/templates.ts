/**
 * Templates as Azure Pipelines expands them before a run: `- template: file.yml` with
 * `parameters:` in steps, jobs, stages and variables lists, and `${{ parameters.name }}` (or
 * `${{ parameters['name'] }}`) in the pipeline and in templates. Other template expressions
 * (`${{ if }}`, `${{ each }}`, `${{ variables.x }}`, functions) are left as written and reported,
 * as are templates from other repositories (`file.yml@repo`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export class TemplateError extends Error {}

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const WHOLE = /^\s*\$\{\{\s*parameters(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])\s*\}\}\s*$/;
const INLINE = /\$\{\{\s*parameters(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])\s*\}\}/g;

function asText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Replaces `${{ parameters.x }}`: a whole value keeps the parameter's type (a list stays a list). */
export function substituteParameters(node: unknown, parameters: Map<string, unknown>, unknown: Set<string>): unknown {
  const lookup = (name: string): unknown => {
    const key = name.toLowerCase();
    if (!parameters.has(key)) unknown.add(name);
    return parameters.get(key) ?? "";
  };
  if (typeof node === "string") {
    const whole = WHOLE.exec(node);
    if (whole) return lookup(whole[1] ?? whole[2]!);
    return node.replace(INLINE, (_, dotted: string | undefined, indexed: string | undefined) => asText(lookup(dotted ?? indexed!)));
  }
  if (Array.isArray(node)) return node.map((item) => substituteParameters(item, parameters, unknown));
  if (isMap(node)) {
    const out: YamlMap = {};
    for (const [key, value] of Object.entries(node)) out[substituteParameters(key, parameters, unknown) as string] = substituteParameters(value, parameters, unknown);
    return out;
  }
  return node;
}

/** A file's declared parameters (a list of {name, default} or a mapping), merged with the values given. */
function resolveParameters(declared: unknown, given: unknown, where: string): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const required: string[] = [];
  if (Array.isArray(declared)) {
    for (const p of declared) {
      if (!isMap(p) || typeof p["name"] !== "string") throw new TemplateError(`${where}: each parameter needs a name`);
      if ("default" in p) values.set(p["name"].toLowerCase(), p["default"]);
      else required.push(p["name"]);
    }
  } else if (isMap(declared)) {
    for (const [name, value] of Object.entries(declared)) values.set(name.toLowerCase(), value);
  }
  const names = new Set([...values.keys(), ...required.map((r) => r.toLowerCase())]);
  if (given !== undefined && given !== null && !isMap(given)) throw new TemplateError(`${where}: parameters must be a mapping`);
  for (const [name, value] of Object.entries(given ?? {})) {
    if (Array.isArray(declared) && !names.has(name.toLowerCase())) throw new TemplateError(`${where}: '${name}' is not a parameter of the template (it has ${[...names].join(", ") || "none"})`);
    values.set(name.toLowerCase(), value);
  }
  const missing = required.filter((r) => !values.has(r.toLowerCase()));
  if (missing.length) throw new TemplateError(`${where}: a value for the parameter${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")} must be provided`);
  return values;
}

const LISTS: Record<string, string> = { steps: "steps", jobs: "jobs", stages: "stages", variables: "variables" };

export interface ExpandOptions {
  /** Folder that relative template paths start from (the pipeline file's). */
  baseDir: string | undefined;
  /** Runtime parameters given for the pipeline's own `parameters:`. */
  parameters?: Record<string, string>;
}

/** Expands every template the pipeline uses; warnings say what stayed as written. */
export function expandTemplates(doc: YamlMap, options: ExpandOptions): { doc: YamlMap; warnings: string[] } {
  const warnings: string[] = [];
  const unknown = new Set<string>();
  const params = resolveParameters(doc["parameters"], options.parameters ?? {}, "pipeline");
  const { parameters: _declared, ...body } = doc;
  const substituted = substituteParameters(body, params, unknown) as YamlMap;
  const expanded = expandNode(substituted, options.baseDir, warnings, 0) as YamlMap;
  if (unknown.size) warnings.push(`\${{ parameters.${[...unknown].join(" / ")} }}: no such parameter; read as empty`);
  const leftover = new Set(JSON.stringify(expanded).match(/\$\{\{[^}]*\}\}/g) ?? []);
  if (leftover.size) warnings.push(`template expressions other than \${{ parameters.name }} are not expanded by the local runner: ${[...leftover].join(", ")}`);
  return { doc: expanded, warnings };
}

function expandNode(node: unknown, dir: string | undefined, warnings: string[], depth: number): unknown {
  if (Array.isArray(node)) return node.map((item) => expandNode(item, dir, warnings, depth));
  if (!isMap(node)) return node;
  const out: YamlMap = {};
  for (const [key, value] of Object.entries(node)) {
    const kind = LISTS[key];
    out[key] = kind && Array.isArray(value) ? value.flatMap((item) => expandEntry(item, kind, dir, warnings, depth)) : expandNode(value, dir, warnings, depth);
  }
  return out;
}

/** One entry of a steps/jobs/stages/variables list: a template entry becomes the template's entries. */
function expandEntry(entry: unknown, kind: string, dir: string | undefined, warnings: string[], depth: number): unknown[] {
  if (!isMap(entry) || typeof entry["template"] !== "string" || (kind !== "variables" && Object.keys(entry).some((k) => k !== "template" && k !== "parameters"))) {
    return [expandNode(entry, dir, warnings, depth)];
  }
  const reference = entry["template"];
  // Left in place, the planner lists it as not run and says why.
  if (reference.includes("@")) return [entry];
  if (dir === undefined) {
    warnings.push(`template '${reference}': the pipeline has no file to find it from`);
    return [entry];
  }
  if (depth >= 20) throw new TemplateError(`template '${reference}': templates nest more than 20 deep`);
  const file = path.resolve(dir, reference.replace(/^\//, ""));
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new TemplateError(`template '${reference}': no such file ${file}`);
  }
  let template: unknown;
  try {
    template = parseYaml(text);
  } catch (error) {
    throw new TemplateError(`template '${reference}' is not valid YAML: ${(error as Error).message}`);
  }
  if (!isMap(template)) throw new TemplateError(`template '${reference}' is not a mapping`);
  const values = resolveParameters(template["parameters"], entry["parameters"], `template '${reference}'`);
  const unknown = new Set<string>();
  const { parameters: _declared, ...body } = template;
  const substituted = substituteParameters(body, values, unknown) as YamlMap;
  if (unknown.size) warnings.push(`template '${reference}': \${{ parameters.${[...unknown].join(" / ")} }}: no such parameter; read as empty`);
  const list = substituted[kind];
  if (kind === "variables" && isMap(list)) return Object.entries(list).map(([name, value]) => ({ name, value }));
  if (!Array.isArray(list)) throw new TemplateError(`template '${reference}' is used in ${kind}: but has no ${kind}: list`);
  return list.flatMap((item) => expandEntry(item, kind, path.dirname(file), warnings, depth + 1));
}
