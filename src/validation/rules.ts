/**
 * One function per kind of input. Each returns the clean value or throws an InputError that
 * names the input and says what is wrong, before anything touches the network.
 */
import { InputError } from "../errors";

// C0 and C1 control characters (tab included: no name or argument needs one).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LOGGING_COMMAND = /##vso\[|##\[/i;

export function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value).replace(/##vso\[/gi, "##_vso[");
}

/**
 * The agent hands a task `$(name)` as written when no variable `name` exists, so a value that still
 * holds one means a pipeline variable was not defined (a typo, or a step or output name that does
 * not match): say that, rather than what the literal text fails to be. Every rule calls this first.
 */
export function definedVariables(input: string, value: string): void {
  const macro = /\$\(([\w.-]+)\)/.exec(value);
  if (macro) {
    const name = macro[1]!;
    const dot = name.indexOf(".");
    const hint =
      dot > 0
        ? `: check that a step named '${name.slice(0, dot)}' runs earlier in this job and sets the output variable '${name.slice(dot + 1)}' (from another job, map dependencies.<job>.outputs['${name}'] to a job variable)`
        : ": define it under variables:, or check its spelling";
    throw new InputError(input, `uses the pipeline variable $(${name}), which is not defined, so the agent passed it as written${hint}`);
  }
  if (/\$\[/.test(value)) {
    throw new InputError(input, "holds a runtime expression $[ … ], which Azure Pipelines evaluates only in variables: and conditions; set a variable to it and use $(variable) here");
  }
}

/** Text that reaches the service or the log: no control characters, no logging commands. */
export function plainText(input: string, value: string, { maxLength = 4096 } = {}): string {
  definedVariables(input, value);
  const control = CONTROL.exec(value);
  if (control) {
    throw new InputError(input, `contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}) at position ${control.index + 1}; remove it`);
  }
  if (LOGGING_COMMAND.test(value)) throw new InputError(input, "contains '##vso[' or '##[', which the agent would read as a logging command");
  if (value.length > maxLength) throw new InputError(input, `is ${value.length} characters long; the limit is ${maxLength}`);
  return value;
}

export function requiredText(input: string, value: string | undefined): string {
  const trimmed = (value ?? "").trim();
  if (!trimmed) throw new InputError(input, "a value is required");
  return trimmed;
}

/** Surrounding white space in a name is almost always a copy-paste accident: say so rather than trim silently. */
function noSurroundingSpace(input: string, value: string): void {
  if (value !== value.trim()) throw new InputError(input, `${show(value)} has leading or trailing white space`);
}

export function resourceGroupName(input: string, raw: string | undefined): string {
  const value = requiredText(input, raw);
  noSurroundingSpace(input, raw ?? "");
  plainText(input, value, { maxLength: 90 });
  if (!/^[-\w.()\p{L}\p{N}]+$/u.test(value) || value.endsWith(".")) {
    throw new InputError(input, `${show(value)} is not a resource group name (letters, digits, '_', '-', '.', '(', ')'; not ending in '.')`);
  }
  return value;
}

/** Cluster pool and cluster names: letters, digits and hyphens, starting with a letter. */
export function clusterResourceName(input: string, raw: string | undefined): string {
  const value = requiredText(input, raw);
  noSurroundingSpace(input, raw ?? "");
  plainText(input, value, { maxLength: 63 });
  if (!/^[a-zA-Z][a-zA-Z0-9-]*$/.test(value) || value.endsWith("-")) {
    throw new InputError(input, `${show(value)} is not a valid name (letters, digits and '-', starting with a letter, not ending with '-')`);
  }
  return value;
}

/** A job name the service accepts, at most 63 characters; the classic editor checks the same pattern (task.json validation). */
export const JOB_NAME_PATTERN = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const JOB_NAME = new RegExp(`^${JOB_NAME_PATTERN}$`);

/** The nearest name the service accepts: lower case, other characters as '-', no '-' at either end. */
export function suggestedJobName(value: string): string | undefined {
  const suggestion = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return JOB_NAME.test(suggestion) ? suggestion : undefined;
}

/**
 * Job names are lower case on HDInsight on AKS. On a Flink cluster the same rule keeps the name a
 * valid tag of the JobIDs the tasks choose (Flink's own job name is free, and may differ).
 */
export function jobName(input: string, raw: string | undefined, target: "hdinsightAks" | "flinkRest" = "hdinsightAks"): string {
  const value = requiredText(input, raw);
  noSurroundingSpace(input, raw ?? "");
  plainText(input, value, { maxLength: 63 });
  const suggestion = suggestedJobName(value);
  const use = suggestion ? `: use ${show(suggestion)}` : "";
  if (value !== value.toLowerCase()) {
    const why =
      target === "flinkRest"
        ? "the tasks track a Flink job by this name and tag its JobIDs with it; the name Flink shows may be anything"
        : "HDInsight on AKS job names are lower case";
    throw new InputError(input, `${show(value)} must be lower case (${why}), with only letters, digits and '-'${use}`);
  }
  if (!JOB_NAME.test(value)) {
    throw new InputError(input, `${show(value)} is not a valid job name (lower-case letters, digits and '-', starting and ending with a letter or digit)${use}`);
  }
  return value;
}

/** An Azure Data Lake Storage Gen2 location: abfs[s]://container@account.dfs.core.windows.net/path */
export function abfsUri(input: string, raw: string | undefined, { required }: { required: boolean }): string | undefined {
  const value = (raw ?? "").trim();
  if (!value) {
    if (required) throw new InputError(input, "a value is required");
    return undefined;
  }
  plainText(input, value, { maxLength: 2048 });
  const match = /^(abfss?):\/\/([^@/\s]+)@([^/\s]+)(\/[^\s]*)?$/i.exec(value);
  if (!match) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
    throw new InputError(
      input,
      scheme && !/^abfss?$/i.test(scheme)
        ? `${show(value)} uses the scheme '${scheme}'; use abfs:// or abfss://container@account.dfs.core.windows.net/path`
        : `${show(value)} is not an abfs:// or abfss:// URI (abfss://container@account.dfs.core.windows.net/path)`,
    );
  }
  if (match[1] !== match[1]!.toLowerCase()) throw new InputError(input, `${show(value)}: write the scheme in lower case`);
  return value.replace(/\/+$/, "");
}

export function jarFileName(input: string, raw: string | undefined): string {
  const value = requiredText(input, raw);
  plainText(input, value, { maxLength: 255 });
  if (/[/\\]/.test(value)) throw new InputError(input, `${show(value)} must be a file name only; put its folder in 'jobJarDirectory'`);
  if (!/\.jar$/i.test(value)) throw new InputError(input, `${show(value)} is not a .jar file name`);
  return value;
}

export function javaClassName(input: string, raw: string | undefined): string {
  const value = requiredText(input, raw);
  plainText(input, value, { maxLength: 1024 });
  if (!/^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$/u.test(value)) {
    throw new InputError(input, `${show(value)} is not a fully qualified Java class name such as org.example.MyJob`);
  }
  return value;
}

export function integer(input: string, raw: string | undefined, { min, max, fallback }: { min: number; max: number; fallback?: number }): number {
  const value = (raw ?? "").trim();
  definedVariables(input, value);
  if (!value) {
    if (fallback !== undefined) return fallback;
    throw new InputError(input, "a value is required");
  }
  if (!/^[+-]?\d+$/.test(value)) throw new InputError(input, `${show(value)} is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new InputError(input, `${value} is out of range: use a whole number from ${min} to ${max}`);
  return n;
}

export function boolean(input: string, raw: string | undefined, fallback: boolean): boolean {
  definedVariables(input, raw ?? "");
  const value = (raw ?? "").trim().toLowerCase();
  if (!value) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InputError(input, `${show(raw ?? "")} is not 'true' or 'false'`);
}

export function oneOf<T extends string>(input: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  const value = (raw ?? "").trim();
  definedVariables(input, value);
  if (!value) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) throw new InputError(input, `${show(value)} is not one of: ${allowed.join(", ")}`);
  return found;
}
