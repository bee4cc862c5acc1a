import type { Guesses } from "../config";
import { ACTIONS_2023_06, ACTIONS_2023_11, type ActionRequest, type FlinkAction } from "../flink/state-machine";
import { isObject } from "../http";
import { invalidContent, type ArmError } from "./errors";
import { features, type ApiVersion } from "./topology";

const READ_ONLY = ["jobId", "status", "jobOutput", "actionResult", "lastSavePoint"];
const STRING_FIELDS = ["jobName", "jobJarDirectory", "jarName", "entryClass", "args", "savePointName", "action", "runId"] as const;
const TOP_LEVEL_ALLOWED = ["properties", "id", "name", "type", "systemData"];

/** Validates a runJob body as ARM + the RP would; returns the action request or an ArmError. */
export function validateRunJobBody(body: unknown, v: ApiVersion, guesses: Guesses): ActionRequest | ArmError {
  if (!isObject(body)) return invalidContent("properties", "The request content was invalid and could not be deserialized: the body must be a JSON object with a 'properties' object.");
  if (guesses.rejectUnknownProperties)
    for (const k of Object.keys(body))
      if (!TOP_LEVEL_ALLOWED.includes(k)) return invalidContent(k, `Could not find member '${k}' on object of type 'ClusterJob'.`);
  const p = body["properties"];
  if (!isObject(p)) return invalidContent("properties", "The request content was invalid: 'properties' is required and must be an object.");

  if (p["jobType"] === undefined) return invalidContent("properties.jobType", "The property 'properties.jobType' is required. It must be 'FlinkJob'.");
  if (p["jobType"] !== "FlinkJob") return invalidContent("properties.jobType", `The value '${String(p["jobType"])}' is not valid for 'properties.jobType'. It must be 'FlinkJob'.`);

  for (const k of READ_ONLY)
    if (k in p) return invalidContent(`properties.${k}`, `The property 'properties.${k}' is read-only and cannot be set in a request.`);

  const f = features(v);
  const known = new Set<string>(["jobType", ...STRING_FIELDS, "flinkConfiguration"]);
  if (!f.runId) known.delete("runId");
  if (guesses.rejectUnknownProperties)
    for (const k of Object.keys(p))
      if (!known.has(k)) return invalidContent(`properties.${k}`, `Could not find member '${k}' on object of type 'FlinkJobProperties' (api-version ${v}).`);

  for (const k of STRING_FIELDS)
    if (p[k] !== undefined && typeof p[k] !== "string")
      return invalidContent(`properties.${k}`, `Invalid value for 'properties.${k}': expected a string, got ${JSON.stringify(p[k])}.`);

  const allowed: readonly string[] = f.extraActions ? ACTIONS_2023_11 : ACTIONS_2023_06;
  const action = p["action"] as string | undefined;
  if (action === undefined || action === "") return invalidContent("properties.action", "The property 'properties.action' is required.");
  if (!allowed.includes(action))
    return invalidContent("properties.action", `The value '${action}' is not valid for 'properties.action' in api-version ${v}. Allowed values: ${allowed.join(", ")}.`);

  let flinkConfiguration: Record<string, string> | undefined;
  if (p["flinkConfiguration"] !== undefined) {
    const fc = p["flinkConfiguration"];
    if (!isObject(fc)) return invalidContent("properties.flinkConfiguration", "'properties.flinkConfiguration' must be an object whose values are strings.");
    for (const [k, val] of Object.entries(fc))
      if (typeof val !== "string")
        return invalidContent(`properties.flinkConfiguration.${k}`, `Invalid value for 'properties.flinkConfiguration.${k}': every flinkConfiguration value must be a string, got ${JSON.stringify(val)}.`);
    flinkConfiguration = fc as Record<string, string>;
  }

  const str = (k: string): string | undefined => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  const jobName = str("jobName");
  const runId = f.runId ? str("runId") : undefined;
  const required = (k: string) => invalidContent(`properties.${k}`, `The property 'properties.${k}' is required for action ${action}.`);

  if (action === "NEW" || !f.runId) {
    if (!jobName) return required("jobName");
  } else if (!jobName && !runId) {
    return invalidContent("properties.jobName", `Action ${action} needs 'properties.jobName' or 'properties.runId' to identify the job.`);
  }
  if (jobName !== undefined && guesses.jobNameLowercase && !/^[a-z0-9][a-z0-9-_.]*$/.test(jobName))
    return invalidContent("properties.jobName", `The job name '${jobName}' is invalid: it must be lower case letters, digits, '-', '_' or '.', starting with a letter or digit.`);
  if (action === "NEW") {
    for (const k of ["jobJarDirectory", "jarName", "entryClass"]) if (!str(k)) return required(k);
    // The docs call flinkConfiguration.parallelism required, yet the service accepted a NEW
    // without flinkConfiguration (REAL: the CLI recording lists its record).
  }
  const par = flinkConfiguration?.["parallelism"];
  if (par !== undefined && !/^[1-9]\d*$/.test(par))
    return invalidContent("properties.flinkConfiguration.parallelism", `Invalid value '${par}' for 'properties.flinkConfiguration.parallelism': a positive integer, as a string, is required.`);

  const req: ActionRequest = { action: action as FlinkAction };
  if (jobName !== undefined) req.jobName = jobName;
  if (runId !== undefined) req.runId = runId;
  for (const k of ["jobJarDirectory", "jarName", "entryClass", "args", "savePointName"] as const) {
    const val = str(k);
    if (val !== undefined) req[k] = val;
  }
  if (flinkConfiguration) req.flinkConfiguration = { ...flinkConfiguration };
  return req;
}
