import { InputError } from "../../errors";
import type { CommonInputs, JobAction, RawInputs } from "../../jobs/backend";
import { type Retention, retentionInputs } from "../../jobs/savepoint-retention";
import { parseFlinkConfiguration } from "../../validation/flink-configuration";
import * as rule from "../../validation/rules";
import { ACTIONS, API_VERSIONS, type ApiVersion, DEFAULT_API_VERSION, supports } from "./actions";
import { KNOWN_STATUSES } from "./job-record";
import type { JobProperties } from "./job-record";
import type { DefinitionField } from "./actions";

/** The HDInsight on AKS inputs of one task, checked. */
export interface HdInsightInputs {
  resourceGroupName: string;
  clusterPoolName: string;
  clusterName: string;
  apiVersion: ApiVersion;
  /** Body fields of the action; only those the action carries are set. */
  definition: Partial<Pick<JobProperties, DefinitionField>>;
  /** FlinkJobDeploy: `jarFile` as given, a path or pattern resolved under the working directory when the deployment runs. */
  jarFile?: string;
  /** Things worth saying about the inputs that are not errors. */
  warnings: string[];
  /** PRUNE_SAVEPOINTS (and FlinkJobDeploy's retainSavepoints): how many of the newest to keep, and the oldest age kept. */
  retention?: Retention;
}

/**
 * Checks the cluster inputs and the job-definition inputs the action carries (NEW: jar, entry
 * class, parallelism, configuration; START/UPDATE: savepoint, args; …). No network call.
 */
export function validateHdInsightInputs(common: CommonInputs, raw: RawInputs): HdInsightInputs {
  const apiVersionText = (raw("apiVersion") ?? "").trim() || DEFAULT_API_VERSION;
  if (!(API_VERSIONS as readonly string[]).includes(apiVersionText)) {
    throw new InputError("apiVersion", `${rule.show(apiVersionText)} is not supported; use one of ${API_VERSIONS.join(", ")}`);
  }
  const apiVersion = apiVersionText as ApiVersion;
  const inputs: HdInsightInputs = {
    resourceGroupName: rule.resourceGroupName("resourceGroupName", raw("resourceGroupName")),
    clusterPoolName: rule.clusterResourceName("clusterPoolName", raw("clusterPoolName")),
    clusterName: rule.clusterResourceName("clusterName", raw("clusterName")),
    apiVersion,
    definition: {},
    warnings: [],
  };
  const action = common.action;
  if (action && !supports(apiVersion, action)) {
    throw new InputError(
      common.actionInput ?? "apiVersion",
      `${action} needs apiVersion ${ACTIONS[action].since} or later, but apiVersion is ${apiVersion}; choose ${ACTIONS[action].since} or 2024-05-01-preview`,
    );
  }
  // The agent sends a hidden input's default too: only a value other than what the service does anyway is refused.
  for (const [flinkOnly, serviceDoes] of [
    ["savepointFormat", "canonical"],
    ["restoreMode", "noClaim"],
  ] as const) {
    const value = (raw(flinkOnly) ?? "").trim();
    if (value && value !== serviceDoes) {
      throw new InputError(
        flinkOnly,
        `HDInsight on AKS has no such switch: its runJob API takes no savepoint format or claim mode (the service writes canonical savepoints and decides itself who owns a restored one); clear '${flinkOnly}', or use target 'flinkRest'`,
      );
    }
  }
  if (action === "PRUNE_SAVEPOINTS") inputs.retention = retentionInputs(raw, "keepLast", 5);
  if (common.deploy && (raw("retainSavepoints") ?? "").trim()) inputs.retention = retentionInputs(raw, "retainSavepoints");
  if (common.deploy) {
    // The jar's name comes from the file (or, for an upgrade, from the running job's record).
    const jarFile = rule.requiredText("jarFile", raw("jarFile"));
    rule.plainText("jarFile", jarFile, { maxLength: 1024 });
    if (!/\.jar$/i.test(jarFile) && !/[*?]$/.test(jarFile)) throw new InputError("jarFile", `${rule.show(jarFile)} does not name a .jar file`);
    inputs.jarFile = jarFile;
  }
  if (action) inputs.definition = definition(action, raw, inputs.warnings, common.deploy === true);
  if (action === "DISPOSE_SAVEPOINT" && !inputs.definition.savePointName) {
    throw new InputError("savepointName", "a value is required with operation 'dispose': the savepoint's name (savepoint-20e9e9-8a48c6b905e5) or its full abfs[s]:// path");
  }
  if (common.waitForStatus && !(KNOWN_STATUSES as readonly string[]).includes(common.waitForStatus)) {
    const close = KNOWN_STATUSES.find((s) => similar(s, common.waitForStatus!));
    throw new InputError(
      "waitForStatus",
      `${rule.show(common.waitForStatus)} is not a status HDInsight on AKS reports${close ? ` (did you mean ${close}?)` : ""}; use one of ${KNOWN_STATUSES.join(", ")}`,
    );
  }
  return inputs;
}

function definition(action: JobAction, raw: RawInputs, warnings: string[], deploy: boolean): HdInsightInputs["definition"] {
  const fields = ACTIONS[action].fields;
  const has = (field: DefinitionField) => fields.includes(field);
  const result: HdInsightInputs["definition"] = {};
  if (has("jobJarDirectory")) result.jobJarDirectory = rule.abfsUri("jobJarDirectory", raw("jobJarDirectory"), { required: true });
  if (has("jarName") && !deploy) result.jarName = rule.jarFileName("jarName", raw("jarName"));
  if (has("entryClass")) result.entryClass = rule.javaClassName("entryClass", raw("entryClass"));
  if (has("args")) {
    const args = (raw("args") ?? "").trim();
    rule.plainText("args", args, { maxLength: 8192 });
    // NEW always sends args, as the recorded request does; other actions only when given.
    if (args || action === "NEW") result.args = args;
  }
  if (has("flinkConfiguration")) {
    const config = parseFlinkConfiguration("flinkConfiguration", raw("flinkConfiguration"));
    config["parallelism"] = String(rule.integer("parallelism", raw("parallelism"), { min: 1, max: 100_000, fallback: 2 }));
    if (config["parallelism.default"] !== undefined) {
      // The service passes `parallelism` to the job as its own parallelism, which Flink puts above
      // the cluster-wide default.
      warnings.push(
        `flinkConfiguration sets parallelism.default=${config["parallelism.default"]}, but the job runs with parallelism ${config["parallelism"]} ` +
          `(the 'parallelism' input${(raw("parallelism") ?? "").trim() ? "" : ", default 2"}), which wins over parallelism.default. Set 'parallelism' instead.`,
      );
    }
    const dir = rule.abfsUri("savepointDirectory", raw("savepointDirectory"), { required: false });
    if (dir) config["savepoint.directory"] = dir;
    result.flinkConfiguration = config;
  }
  if (has("savePointName")) {
    const name = (raw("savepointName") ?? "").trim();
    if (name) result.savePointName = savepointReference("savepointName", name);
  }
  return result;
}

/** A savepoint's name (savepoint-20e9e9-8a48c6b905e5) or its full path, as a stop step reports it. */
function savepointReference(input: string, value: string): string {
  rule.plainText(input, value, { maxLength: 2048 });
  if (/\s/.test(value)) throw new InputError(input, `${rule.show(value)} contains white space; give a savepoint name or path`);
  if (value.includes("://")) {
    if (!/^abfss?:\/\/[^@/\s]+@[^/\s]+\/\S*savepoint-[^/]+\/?$/i.test(value)) {
      throw new InputError(input, `${rule.show(value)} is not a savepoint path (abfs[s]://…/savepoint-xxxxxx-xxxxxxxxxxxx)`);
    }
    return value.replace(/\/+$/, "");
  }
  if (!/^savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/.test(value)) {
    throw new InputError(input, `${rule.show(value)} is not a savepoint name such as savepoint-20e9e9-8a48c6b905e5, nor a full abfs[s]:// path`);
  }
  return value;
}

/** One letter dropped, added or changed, or two swapped: a likely typo. */
function similar(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]! <= 1 || (a.length === b.length && [...a].sort().join("") === [...b].sort().join("") && d[a.length]![b.length]! <= 2);
}
