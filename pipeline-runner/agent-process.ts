/**
 * Runs a bundled task the way the Azure Pipelines agent does: a fresh Node process on
 * dist/tasks/<Task>/index.js, inputs, service connections and variables in the environment,
 * `##vso[…]` commands parsed from stdout and stderr.
 *
 * Shared by the local pipeline runner and the end-to-end test harness (test/harness/agent.ts).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandFromString } from "azure-pipelines-task-lib/taskcommand";

export const repoRoot = path.resolve(__dirname, "..");

export interface ConnectionEnv {
  id: string;
  url: string;
  scheme: string;
  parameters: Record<string, string>;
  data: Record<string, string>;
}

export interface RunTaskOptions {
  task: string;
  inputs: Record<string, string | undefined>;
  connection?: ConnectionEnv;
  /** More service connections, by id (an ApacheFlink connection beside an Azure Resource Manager one). */
  extraConnections?: ConnectionEnv[];
  /** Pipeline variables by name (System.Debug, System.OidcRequestUri, …). */
  variables?: Record<string, string>;
  /** System.AccessToken, exposed as the SystemVssConnection's AccessToken. */
  systemAccessToken?: string;
  /** Raw environment additions (NODE_EXTRA_CA_CERTS, managed identity endpoint, …). */
  env?: Record<string, string>;
  /** Send a signal to the task after this many ms, or once `after` settles (as the agent does on a cancel). */
  signal?: { name: NodeJS.Signals; afterMs: number } | { name: NodeJS.Signals; after: Promise<unknown> };
  timeoutMs?: number;
  /** Use another node binary than the one running the tests. */
  nodePath?: string;
  /** Called with each complete output line as it arrives (for a live log). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface TaskCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
  stream: "stdout" | "stderr";
}

export interface TaskRun {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  commands: TaskCommand[];
  result: string | undefined;
  resultMessage: string | undefined;
  outputs: Record<string, string>;
  errors: string[];
  warnings: string[];
  /** Contents of every uploaded summary. */
  summaries: string[];
  secrets: string[];
  durationMs: number;
  /** From the signal the runner sent (options.signal) to the task's exit. */
  msAfterSignal?: number;
  /** Lines a person sees in the log: everything but consumed commands. */
  visibleLog: string;
  /** True when the process was killed because it ran past timeoutMs. */
  timedOut: boolean;
}

/** The agent's environment name for a variable or input: upper case, `.` and spaces as `_`. */
export function variableEnvName(name: string): string {
  return name.replace(/[.\s]/g, "_").toUpperCase();
}

export function agentEnvironment(options: RunTaskOptions, tempDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? tempDir,
    AGENT_TEMPDIRECTORY: tempDir,
    AGENT_WORKFOLDER: tempDir,
    SYSTEM_DEFAULTWORKINGDIRECTORY: tempDir,
    AGENT_VERSION: "4.255.0",
    SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: "https://dev.azure.com/contoso/",
  };
  for (const [name, value] of Object.entries(options.inputs)) {
    if (value !== undefined) env[`INPUT_${variableEnvName(name)}`] = value;
  }
  for (const [name, value] of Object.entries(options.variables ?? {})) env[variableEnvName(name)] = value;
  const c = options.connection;
  // The connection stands for azureSubscription unless the step names a Flink connection alone:
  // then, as on the agent, azureSubscription stays empty (and the task infers target flinkRest).
  if (c && (options.inputs["azureSubscription"] !== undefined || options.inputs["flinkConnection"] === undefined)) env[`INPUT_AZURESUBSCRIPTION`] = options.inputs["azureSubscription"] ?? c.id;
  for (const c of [...(options.connection ? [options.connection] : []), ...(options.extraConnections ?? [])]) {
    env[`ENDPOINT_URL_${c.id}`] = c.url;
    env[`ENDPOINT_AUTH_${c.id}`] = JSON.stringify({ parameters: c.parameters, scheme: c.scheme });
    env[`ENDPOINT_AUTH_SCHEME_${c.id}`] = c.scheme;
    for (const [key, value] of Object.entries(c.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${c.id}_${key.toUpperCase()}`] = value;
    env[`ENDPOINT_DATA_${c.id}`] = JSON.stringify(c.data);
    for (const [key, value] of Object.entries(c.data)) env[`ENDPOINT_DATA_${c.id}_${key.toUpperCase()}`] = value;
  }
  if (options.systemAccessToken) {
    const auth = { parameters: { AccessToken: options.systemAccessToken }, scheme: "OAuth" };
    env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = JSON.stringify(auth);
    env["ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION"] = "OAuth";
    env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = options.systemAccessToken;
    env["ENDPOINT_URL_SYSTEMVSSCONNECTION"] = "https://dev.azure.com/contoso/";
  }
  return { ...env, ...(options.env ?? {}) };
}

export function bundlePath(task: string): string {
  return path.join(repoRoot, "dist", "tasks", task, "index.js");
}

/** Splits a stream into lines, holding back a partial last line until more arrives or the end. */
function lineSplitter(emit: (line: string) => void): { push(chunk: string): void; end(): void } {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? "";
      lines.forEach(emit);
    },
    end() {
      if (pending) emit(pending);
      pending = "";
    },
  };
}

export async function runTask(options: RunTaskOptions): Promise<TaskRun> {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-temp-"));
  const env = agentEnvironment(options, tempDir);
  const started = Date.now();
  const child = spawn(options.nodePath ?? process.execPath, [bundlePath(options.task)], { env, cwd: tempDir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const onLine = options.onLine;
  const outLines = lineSplitter((line) => onLine?.(line, "stdout"));
  const errLines = lineSplitter((line) => onLine?.(line, "stderr"));
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    outLines.push(d);
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    errLines.push(d);
  });
  const timers: NodeJS.Timeout[] = [];
  let signalledAt: number | undefined;
  const sendSignal = (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalledAt = Date.now();
    child.kill(name);
  };
  if (options.signal && "afterMs" in options.signal) {
    const { name, afterMs } = options.signal;
    timers.push(setTimeout(() => sendSignal(name), afterMs));
  } else if (options.signal) {
    const { name, after } = options.signal;
    void after.then(() => sendSignal(name), () => sendSignal(name));
  }
  let timedOut = false;
  const timeoutMs = options.timeoutMs ?? 60_000;
  timers.push(
    setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs),
  );
  const [exitCode, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (code, signal) => resolve([code, signal])),
  );
  timers.forEach(clearTimeout);
  outLines.end();
  errLines.end();
  const run = parseRun(stdout, stderr);
  fs.rmSync(tempDir, { recursive: true, force: true });
  const ended = Date.now();
  return { ...run, exitCode, exitSignal, timedOut, durationMs: ended - started, ...(signalledAt !== undefined ? { msAfterSignal: ended - signalledAt } : {}) };
}

/** A command the agent would act on in this line, with the text before it; undefined if none. */
export function commandInLine(line: string): { before: string; command: Omit<TaskCommand, "stream"> } | undefined | "malformed" {
  // The agent acts on the first "##vso[" anywhere in a line.
  const at = line.indexOf("##vso[");
  if (at < 0) return undefined;
  try {
    const parsed = commandFromString(line.slice(at));
    return { before: line.slice(0, at), command: { command: parsed.command, properties: parsed.properties ?? {}, message: parsed.message ?? "" } };
  } catch {
    return "malformed";
  }
}

export function parseRun(stdout: string, stderr: string): Omit<TaskRun, "exitCode" | "exitSignal" | "durationMs" | "timedOut"> {
  const commands: TaskCommand[] = [];
  const visible: string[] = [];
  for (const [stream, text] of [
    ["stdout", stdout],
    ["stderr", stderr],
  ] as const) {
    for (const line of text.split(/\r?\n/)) {
      const found = commandInLine(line);
      if (found === undefined || found === "malformed") {
        if (line) visible.push(line);
        continue;
      }
      commands.push({ ...found.command, stream });
      if (found.before) visible.push(found.before);
      // Debug, issues and errors are shown to people; setvariable and setsecret are consumed.
      if (["task.debug", "task.issue", "task.logissue", "task.complete"].includes(found.command.command)) visible.push(found.command.message);
    }
  }
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  const secrets: string[] = [];
  let result: string | undefined;
  let resultMessage: string | undefined;
  for (const c of commands) {
    if (c.command === "task.setvariable" && c.properties["variable"] && c.properties["isOutput"] === "true") outputs[c.properties["variable"]] = c.message;
    const isSummary = c.command === "task.uploadsummary" || (c.command === "task.addattachment" && c.properties["type"]?.toLowerCase() === "distributedtask.core.summary");
    if (isSummary && fs.existsSync(c.message)) summaries.push(fs.readFileSync(c.message, "utf8"));
    if (c.command === "task.setsecret") secrets.push(c.message);
    if (c.command === "task.complete") {
      result = c.properties["result"];
      resultMessage = c.message;
    }
  }
  return {
    stdout,
    stderr,
    commands,
    result,
    resultMessage,
    outputs,
    summaries,
    secrets,
    errors: commands.filter((c) => c.command === "task.issue" && c.properties["type"] === "error").map((c) => c.message),
    warnings: commands.filter((c) => c.command === "task.issue" && c.properties["type"] === "warning").map((c) => c.message),
    visibleLog: visible.join("\n"),
  };
}
