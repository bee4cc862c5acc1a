/**
 * The inputs a Flink REST task reads besides the common ones, each checked before any network
 * call; a bad value is an InputError naming the input.
 */
import { InputError } from "../../errors";
import type { CommonInputs, JobAction, RawInputs } from "../../jobs/backend";
import { parseFlinkConfiguration } from "../../validation/flink-configuration";
import * as rule from "../../validation/rules";
import { type Retention, retentionInputs } from "../../jobs/savepoint-retention";

// Where it was first written; both backends use it (src/validation/jar-file.ts).
export { resolveJarFile } from "../../validation/jar-file";
import { type ClaimMode, JOB_STATES, type SavepointFormat } from "./api";
import { SAVEPOINT_NAME } from "./savepoints";
import { type EntraTokenInputs, entraScope } from "./connection";

export interface FlinkRestInputs {
  /** The input naming the ApacheFlink service connection. */
  connectionInput: "flinkConnection";
  /** An Entra ID token for the gateway, from an Azure Resource Manager connection. */
  entra?: EntraTokenInputs;
  /** `jarFile` as given: a path or pattern, resolved under the working directory at connect. */
  jarFile?: string;
  entryClass?: string;
  /** Program arguments; undefined when `args` is empty (a later run then keeps the job's own). */
  args?: string[];
  parallelism?: number;
  /** Any URI the cluster can write (file://, s3://, abfss://, hdfs://…). */
  savepointDirectory?: string;
  flinkConfiguration: Record<string, string>;
  /** A savepoint's path or URI, or its name (`savepoint-xxxxxx-xxxxxxxxxxxx`), resolved when the action runs. */
  savepointName?: string;
  allowNonRestoredState: boolean;
  /** Actions that write a savepoint: Flink's formatType. */
  savepointFormat?: SavepointFormat;
  /** Actions that restore: Flink's claimMode (restoreMode before 1.20). */
  claimMode?: ClaimMode;
  /** PRUNE_SAVEPOINTS (and FlinkJobDeploy's retainSavepoints): how many of the newest to keep, and the oldest age kept. */
  retention?: Retention;
}

/** Actions that write a savepoint (savepointFormat); FlinkJobDeploy too. */
const WRITES_SAVEPOINT = new Set<JobAction>(["STOP", "SAVEPOINT", "UPDATE"]);
/** Actions that restore a snapshot (restoreMode); FlinkJobDeploy too. */
const RESTORES = new Set<JobAction>(["START", "RE_LAUNCH", "UPDATE", "LAST_STATE_UPDATE"]);
/** Actions whose savepointName names a savepoint to restore or dispose of. */
const TAKES_SAVEPOINT = new Set<JobAction>(["NEW", "START", "UPDATE", "DISPOSE_SAVEPOINT"]);

/** Actions that run a jar: they may take the job-definition inputs. */
const RUNS_JAR = new Set<JobAction>(["NEW", "START", "RE_LAUNCH", "UPDATE", "STATELESS_UPDATE", "LAST_STATE_UPDATE"]);

/** Keys the task sets from inputs of its own. */
const OWNED_KEYS: Record<string, string> = {
  "pipeline.name": "jobName",
  "execution.checkpointing.savepoint-dir": "savepointDirectory",
  "state.savepoints.dir": "savepointDirectory",
  "execution.savepoint.path": "savepointName",
  "execution.state-recovery.path": "savepointName",
  "execution.savepoint.ignore-unclaimed-state": "allowNonRestoredState",
  "execution.state-recovery.ignore-unclaimed-state": "allowNonRestoredState",
};

export function validateFlinkRestInputs(common: CommonInputs, raw: RawInputs): FlinkRestInputs {
  const connection = (raw("flinkConnection") ?? "").trim();
  if (!connection) throw new InputError("flinkConnection", "a value is required with target 'flinkRest': choose an Apache Flink service connection");
  if (common.waitForStatus && !(JOB_STATES as readonly string[]).includes(common.waitForStatus)) {
    throw new InputError(
      "waitForStatus",
      `${rule.show(common.waitForStatus)} is not a state of a Flink job; use one of ${JOB_STATES.join(", ")}` +
        (common.waitForStatus === "STOPPED" ? " (a job stopped with a savepoint is FINISHED)" : ""),
    );
  }
  const inputs: FlinkRestInputs = {
    connectionInput: "flinkConnection",
    flinkConfiguration: {},
    allowNonRestoredState: rule.boolean("allowNonRestoredState", raw("allowNonRestoredState"), false),
  };
  const entraConnection = (raw("entraIdConnection") ?? "").trim();
  const scope = (raw("entraIdScope") ?? "").trim();
  if (entraConnection) {
    if (!scope) throw new InputError("entraIdScope", "a value is required with 'entraIdConnection': the gateway's application ID URI, for example api://flink-gateway");
    inputs.entra = { connectionInput: "entraIdConnection", connectionId: entraConnection, scopeInput: "entraIdScope", scope: entraScope("entraIdScope", scope) };
  } else if (scope) {
    throw new InputError("entraIdScope", "is set, but 'entraIdConnection' is empty: name the Azure Resource Manager connection the token comes from, or clear 'entraIdScope'");
  }
  const action = common.action;
  const jarFile = (raw("jarFile") ?? "").trim();
  if (action === "NEW" && !jarFile) throw new InputError("jarFile", "a value is required: the path or pattern of the job's .jar under the working directory");
  if (jarFile && action && RUNS_JAR.has(action)) {
    rule.plainText("jarFile", jarFile, { maxLength: 1024 });
    if (!/\.jar$/i.test(jarFile) && !/[*?]$/.test(jarFile)) throw new InputError("jarFile", `${rule.show(jarFile)} does not name a .jar file`);
    inputs.jarFile = jarFile;
  }
  if (action && RUNS_JAR.has(action)) {
    const entryClass = (raw("entryClass") ?? "").trim();
    if (entryClass) inputs.entryClass = rule.javaClassName("entryClass", entryClass);
    const args = raw("args") ?? "";
    if (args.trim()) {
      rule.plainText("args", args.trim(), { maxLength: 8192 });
      inputs.args = splitArgs("args", args.trim());
    }
    const parallelism = (raw("parallelism") ?? "").trim();
    if (parallelism) inputs.parallelism = rule.integer("parallelism", parallelism, { min: 1, max: 32_768 });
    const config = raw("flinkConfiguration");
    if ((config ?? "").trim()) {
      inputs.flinkConfiguration = parseFlinkConfiguration("flinkConfiguration", config);
      for (const key of Object.keys(inputs.flinkConfiguration)) {
        const owner = OWNED_KEYS[key];
        if (owner) throw new InputError("flinkConfiguration", `sets '${key}', which the '${owner}' input sets; use that input instead`);
      }
    }
  }
  const dir = (raw("savepointDirectory") ?? "").trim();
  if (dir) inputs.savepointDirectory = uri("savepointDirectory", dir);
  const savepoint = (raw("savepointName") ?? "").trim();
  if (savepoint && action && TAKES_SAVEPOINT.has(action) && !common.deploy) inputs.savepointName = savepointPath("savepointName", savepoint);
  if (action === "DISPOSE_SAVEPOINT" && !inputs.savepointName) {
    throw new InputError("savepointName", "a value is required with operation 'dispose': the savepoint's name (savepoint-493dc1-c5b00e42edc2) or its full path");
  }
  if (action && (WRITES_SAVEPOINT.has(action) || common.deploy)) {
    inputs.savepointFormat = rule.oneOf("savepointFormat", raw("savepointFormat"), ["canonical", "native"], "canonical") === "native" ? "NATIVE" : "CANONICAL";
  }
  if (action && (RESTORES.has(action) || common.deploy)) {
    inputs.claimMode = rule.oneOf("restoreMode", raw("restoreMode"), ["noClaim", "claim"], "noClaim") === "claim" ? "CLAIM" : "NO_CLAIM";
    if (common.deploy && inputs.claimMode === "CLAIM" && rule.boolean("rollbackOnFailure", raw("rollbackOnFailure"), true)) {
      throw new InputError(
        "restoreMode",
        "'claim' lets Flink delete the pre-upgrade savepoint once the new version's checkpoints replace it, and a rollback needs that savepoint; use 'noClaim', or set rollbackOnFailure to false",
      );
    }
  }
  if (action === "PRUNE_SAVEPOINTS") inputs.retention = retentionInputs(raw, "keepLast", 5);
  if (common.deploy && (raw("retainSavepoints") ?? "").trim()) inputs.retention = retentionInputs(raw, "retainSavepoints");
  return inputs;
}

/** A directory URI Flink can write: a scheme (file, s3, abfss, hdfs, gs, …) or an absolute path. */
function uri(input: string, value: string): string {
  rule.plainText(input, value, { maxLength: 2048 });
  if (/\s/.test(value)) throw new InputError(input, `${rule.show(value)} contains white space`);
  if (!/^[a-z][a-z0-9+.-]*:\/\/?\S/i.test(value) && !value.startsWith("/")) {
    throw new InputError(input, `${rule.show(value)} is not a URI the cluster can write, such as file:///flink/savepoints, s3://bucket/savepoints or abfss://container@account.dfs.core.windows.net/savepoints`);
  }
  return value.replace(/\/+$/, "");
}

/**
 * A savepoint (or retained checkpoint): its name (`savepoint-493dc1-c5b00e42edc2`, resolved under
 * the job's savepoint directory when the action runs), or its directory or `_metadata` path.
 */
function savepointPath(input: string, value: string): string {
  rule.plainText(input, value, { maxLength: 2048 });
  if (SAVEPOINT_NAME.test(value)) return value;
  if (/\s/.test(value)) throw new InputError(input, `${rule.show(value)} contains white space; give a savepoint's name or its full path`);
  if (!/^[a-z][a-z0-9+.-]*:\/\/?\S/i.test(value) && !value.startsWith("/")) {
    throw new InputError(
      input,
      `${rule.show(value)} is neither a savepoint's name (such as savepoint-493dc1-c5b00e42edc2) nor its full path (such as file:///flink/savepoints/savepoint-493dc1-c5b00e42edc2 or s3://bucket/savepoints/savepoint-493dc1-c5b00e42edc2, as FlinkJobStop's savepointPath gives it)`,
    );
  }
  return value.replace(/\/+$/, "");
}

/**
 * Program arguments as a shell would split them: white space separates, single and double quotes
 * group ("Orders Pipeline" is one argument), a backslash escapes inside double quotes and outside.
 */
export function splitArgs(input: string, text: string): string[] {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && (text[i + 1] === '"' || text[i + 1] === "\\")) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
    } else {
      current += c;
      inArg = true;
    }
  }
  if (quote) throw new InputError(input, `a ${quote === '"' ? "double" : "single"} quote is not closed`);
  if (inArg) args.push(current);
  return args;
}
