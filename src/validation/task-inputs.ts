import { InputError } from "../errors";
import { ACTIONS, API_VERSIONS, type ApiVersion, DEFAULT_API_VERSION, type FlinkAction, supports } from "../flink/actions";
import type { ActionRequest } from "../flink/run-action";
import { parseFlinkConfiguration } from "./flink-configuration";
import * as rule from "./rules";

/** Reads one input's raw value (undefined when not set). */
export type RawInputs = (name: string) => string | undefined;

/** Inputs a task may add to the common ones. */
export type TaskInputName =
  | "jobJarDirectory"
  | "jarName"
  | "entryClass"
  | "args"
  | "parallelism"
  | "savepointDirectory"
  | "flinkConfiguration"
  | "savepointName"
  | "waitForStatus";

/** An input that picks the action: its values, each mapped to the action it runs. */
export interface ModeInput {
  name: string;
  actions: Record<string, FlinkAction>;
  default: string;
}

/** What a task is: the data that tells one task from another. */
export interface TaskSpec {
  /** The task's name, as in task.json. */
  task: string;
  /** The action it runs, or the input that chooses it. Absent: the task only reads jobs. */
  action?: FlinkAction | ModeInput;
  /** Inputs it adds to the common ones. */
  inputs: readonly TaskInputName[];
  /** Inputs valid only with some mode values (e.g. savepointName only with startMode savepoint). */
  onlyWith?: Partial<Record<TaskInputName, string[]>>;
}

export interface ValidatedTask {
  resourceGroupName: string;
  clusterPoolName: string;
  clusterName: string;
  apiVersion: ApiVersion;
  waitForCompletion: boolean;
  timeoutMs: number;
  maxPollIntervalMs: number;
  /** Absent only for a task that reads every job. */
  jobName?: string;
  request?: ActionRequest;
  waitForStatus?: string;
}

const MAX_TIMEOUT_MINUTES = 7 * 24 * 60;

/** Checks every input of a task and builds its request. Throws InputError on the first bad one. */
export function validateTask(spec: TaskSpec, raw: RawInputs): ValidatedTask {
  const apiVersionText = (raw("apiVersion") ?? "").trim() || DEFAULT_API_VERSION;
  if (!(API_VERSIONS as readonly string[]).includes(apiVersionText)) {
    throw new InputError("apiVersion", `${rule.show(apiVersionText)} is not supported; use one of ${API_VERSIONS.join(", ")}`);
  }
  const apiVersion = apiVersionText as ApiVersion;
  const task: ValidatedTask = {
    resourceGroupName: rule.resourceGroupName("resourceGroupName", raw("resourceGroupName")),
    clusterPoolName: rule.clusterResourceName("clusterPoolName", raw("clusterPoolName")),
    clusterName: rule.clusterResourceName("clusterName", raw("clusterName")),
    apiVersion,
    waitForCompletion: rule.boolean("waitForCompletion", raw("waitForCompletion"), true),
    timeoutMs: rule.integer("waitTimeoutInMinutes", raw("waitTimeoutInMinutes"), { min: 1, max: MAX_TIMEOUT_MINUTES, fallback: 30 }) * 60_000,
    maxPollIntervalMs: rule.integer("pollingIntervalInSeconds", raw("pollingIntervalInSeconds"), { min: 1, max: 3600, fallback: 10 }) * 1000,
  };

  const jobNameRaw = raw("jobName");
  if (spec.action || (jobNameRaw ?? "").trim()) task.jobName = rule.jobName("jobName", jobNameRaw);

  const { action, mode } = chooseAction(spec, raw);
  if (action && !supports(apiVersion, action)) {
    throw new InputError(
      mode?.name ?? "apiVersion",
      `${action} needs apiVersion ${ACTIONS[action].since} or later, but apiVersion is ${apiVersion}; choose ${ACTIONS[action].since} or 2024-05-01-preview`,
    );
  }
  for (const [input, modes] of Object.entries(spec.onlyWith ?? {})) {
    const value = (raw(input) ?? "").trim();
    const current = mode ? modeValue(mode, raw) : "";
    if (value && modes && !modes.includes(current)) {
      throw new InputError(input, `applies only when '${mode?.name}' is ${modes.join(" or ")}; it is '${current}', so clear '${input}'`);
    }
  }

  const definition: ActionRequest["definition"] = {};
  const config: Record<string, string> = {};
  const has = (name: TaskInputName) => spec.inputs.includes(name);
  if (has("jobJarDirectory")) definition.jobJarDirectory = rule.abfsUri("jobJarDirectory", raw("jobJarDirectory"), { required: true });
  if (has("jarName")) definition.jarName = rule.jarFileName("jarName", raw("jarName"));
  if (has("entryClass")) definition.entryClass = rule.javaClassName("entryClass", raw("entryClass"));
  if (has("args")) {
    const args = (raw("args") ?? "").trim();
    rule.plainText("args", args, { maxLength: 8192 });
    // NEW always sends args, as the recorded request does; other actions only when given.
    if (args || action === "NEW") definition.args = args;
  }
  if (has("flinkConfiguration")) Object.assign(config, parseFlinkConfiguration("flinkConfiguration", raw("flinkConfiguration")));
  if (has("parallelism")) config["parallelism"] = String(rule.integer("parallelism", raw("parallelism"), { min: 1, max: 100_000, fallback: 2 }));
  if (has("savepointDirectory")) {
    const dir = rule.abfsUri("savepointDirectory", raw("savepointDirectory"), { required: false });
    if (dir) config["savepoint.directory"] = dir;
  }
  if (has("savepointName")) {
    const name = (raw("savepointName") ?? "").trim();
    if (name) definition.savePointName = savepointReference("savepointName", name);
  }
  if (Object.keys(config).length) definition.flinkConfiguration = config;
  if (has("waitForStatus")) {
    const status = (raw("waitForStatus") ?? "").trim();
    if (status) {
      if (!/^[A-Za-z][A-Za-z_-]*$/.test(status)) throw new InputError("waitForStatus", `${rule.show(status)} is not a job status such as RUNNING or STOPPED`);
      if (!task.jobName) throw new InputError("waitForStatus", "needs 'jobName': say which job should reach the status");
      task.waitForStatus = status.toUpperCase();
    }
  }

  if (action) task.request = { action, jobName: task.jobName!, definition };
  return task;
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

function modeValue(mode: ModeInput, raw: RawInputs): string {
  return rule.oneOf(mode.name, raw(mode.name), Object.keys(mode.actions), mode.default);
}

function chooseAction(spec: TaskSpec, raw: RawInputs): { action?: FlinkAction; mode?: ModeInput } {
  if (!spec.action) return {};
  if (typeof spec.action === "string") return { action: spec.action };
  return { action: spec.action.actions[modeValue(spec.action, raw)], mode: spec.action };
}
