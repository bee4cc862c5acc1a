import { InputError } from "../errors";
import { type CommonInputs, DEFAULT_TARGET, type RawInputs, type Target, TARGETS } from "../jobs/backend";
import type { ModeInput, TaskSpec } from "../tasks";
import * as rule from "./rules";

const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

/**
 * The inputs every task has whatever the target: which cluster kind, which job, which action,
 * how long to wait. Throws InputError on the first bad one; the backend checks its own after.
 */
export function validateCommon(spec: TaskSpec, raw: RawInputs): CommonInputs {
  const target = targetInput(raw);
  const common: CommonInputs = {
    target,
    waitForCompletion: rule.boolean("waitForCompletion", raw("waitForCompletion"), true),
    timeoutMs: rule.integer("waitTimeoutInMinutes", raw("waitTimeoutInMinutes"), { min: 1, max: MAX_TIMEOUT_MINUTES, fallback: 30 }) * 60_000,
    maxPollIntervalMs: rule.integer("pollingIntervalInSeconds", raw("pollingIntervalInSeconds"), { min: 1, max: 3600, fallback: 10 }) * 1000,
  };
  if (spec.deploy) common.deploy = true;
  const jobNameRaw = raw("jobName");
  if (spec.action || (jobNameRaw ?? "").trim()) common.jobName = rule.jobName("jobName", jobNameRaw, target);

  if (spec.action) {
    const mode = typeof spec.action === "string" ? undefined : spec.action;
    common.action = typeof spec.action === "string" ? spec.action : spec.action.actions[modeValue(spec.action, raw)]!;
    if (mode) common.actionInput = mode.name;
    for (const [input, modes] of Object.entries(spec.onlyWith ?? {})) {
      const value = (raw(input) ?? "").trim();
      const current = mode ? modeValue(mode, raw) : "";
      if (value && !modes.includes(current)) {
        throw new InputError(input, `applies only when '${mode?.name}' is ${modes.join(" or ")}; it is '${current}', so clear '${input}'`);
      }
    }
  } else {
    const status = (raw("waitForStatus") ?? "").trim();
    if (status) {
      if (!/^[A-Za-z][A-Za-z_-]*$/.test(status)) throw new InputError("waitForStatus", `${rule.show(status)} is not a job status such as RUNNING or ${target === "flinkRest" ? "FINISHED" : "STOPPED"}`);
      if (!common.jobName) throw new InputError("waitForStatus", "needs 'jobName': say which job should reach the status");
      common.waitForStatus = status.toUpperCase();
    }
  }
  return common;
}

/**
 * `target` as written, or inferred: a step that names a `flinkConnection` and no
 * `azureSubscription` means flinkRest (the contract). The agent hands a task the manifest's default
 * for an input the YAML omits, so `hdinsightAks` counts as "not given" here: with it, a step that
 * names only a Flink connection could not run anyway. A value that is not exactly one of the two
 * fails, suggesting the one it resembles: a silently accepted near miss would hide a typo elsewhere.
 */
export function targetInput(raw: RawInputs): Target {
  const value = (raw("target") ?? "").trim();
  rule.definedVariables("target", value);
  if (!value || value === DEFAULT_TARGET) {
    const flinkConnection = (raw("flinkConnection") ?? "").trim();
    const azureSubscription = (raw("azureSubscription") ?? "").trim();
    return flinkConnection && !azureSubscription ? "flinkRest" : DEFAULT_TARGET;
  }
  const found = TARGETS.find((t) => t === value);
  if (found) return found;
  const lower = value.toLowerCase();
  const near = TARGETS.find((t) => t.toLowerCase() === lower) ?? TARGETS.find((t) => lower.length >= 4 && (t.toLowerCase().startsWith(lower) || lower.startsWith(t.toLowerCase())));
  throw new InputError(
    "target",
    `${rule.show(value)} is not a target; use 'flinkRest' (any Apache Flink cluster, with flinkConnection) or 'hdinsightAks' (HDInsight on AKS, with azureSubscription)` +
      (near ? `. Did you mean '${near}'? (targets are case-sensitive)` : ""),
  );
}

function modeValue(mode: ModeInput, raw: RawInputs): string {
  return rule.oneOf(mode.name, raw(mode.name), Object.keys(mode.actions), mode.default);
}
