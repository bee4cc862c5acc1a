import * as fs from "node:fs";
import * as path from "node:path";
import { loadBackend } from "./backends";
import { ActionFailedError, CancelledError, ConnectionError, InputError } from "./errors";
import type { Backend, BackendModule, CommonInputs, JobView, SummaryFacts, Target, WaitOptions } from "./jobs/backend";
import type { PipelineHost } from "./pipeline/host";
import { hintFor } from "./report/hints";
import { validateDeployInputs } from "./jobs/deploy";
import { actionOutputs, deployOutputs, jobOutputs, type Outputs, statusOutputs } from "./report/outputs";
import { progressReporter } from "./jobs/progress";
import { renderSummary, type TimelineEntry } from "./report/summary";
import type { Logger } from "./util/logger";
import type { TaskSpec } from "./tasks";
import { validateCommon } from "./validation/common-inputs";

/**
 * The task's version, from the task.json beside the bundle. Read at run time rather than baked
 * in, so a bundle's bytes change only when its code does (the version rule hashes them).
 */
function taskVersion(): string {
  try {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "task.json"), "utf8")) as { version: { Major: number; Minor: number; Patch: number } };
    return `${version.Major}.${version.Minor}.${version.Patch}`;
  } catch {
    return "dev";
  }
}

/**
 * The flow every task shares, whatever the cluster: read the common inputs → the backend's own →
 * connect → act (or read) → outputs and summary. Returns the outputs it set; throws the error the
 * step fails with. `load` maps a target to its backend (tests give their own).
 */
export async function executeTask(
  spec: TaskSpec,
  host: PipelineHost,
  signal?: AbortSignal,
  load: (target: Target) => BackendModule<unknown> | Promise<BackendModule<unknown>> = loadBackend,
): Promise<Outputs> {
  const started = Date.now();
  const raw = (name: string) => host.input(name);
  const common = validateCommon(spec, raw);
  const module = await load(common.target);
  if (spec.deploy && !module.deploys) throw new InputError("target", `FlinkJobDeploy does not support target '${common.target}' yet; use target 'flinkRest', or FlinkJobSubmit and FlinkJobUpdate`);
  const inputs = module.validate(common, raw);
  const deployInputs = spec.deploy ? validateDeployInputs(raw) : undefined;
  const backend = module.connect(host, common, inputs);

  // What the step told the reader, with the time: the run summary's timeline.
  const timeline: TimelineEntry[] = [];
  const logger: Logger = {
    info: (message) => {
      timeline.push({ atMs: Date.now() - started, text: message });
      host.logger.info(message);
    },
    warning: (message) => {
      timeline.push({ atMs: Date.now() - started, text: `Warning: ${message}` });
      host.logger.warning(message);
    },
    debug: (message) => host.logger.debug(message),
  };
  const options: WaitOptions = {
    ...(signal ? { signal } : {}),
    timeoutMs: common.timeoutMs,
    waitForCompletion: common.waitForCompletion,
    maxPollIntervalMs: common.maxPollIntervalMs,
    logger,
    onProgress: progressReporter(logger, common.timeoutMs),
  };
  let outputs: Outputs = {};
  let failure: Error | undefined;
  const notes: string[] = [];
  try {
    if (deployInputs) {
      if (!backend.deploy) throw new Error(`The ${common.target} backend declares deploy support but has no deploy`);
      const outcome = await backend.deploy({ jobName: common.jobName!, inputs, deploy: deployInputs }, options);
      outputs = deployOutputs(outcome, common.jobName!);
      notes.push(...(outcome.notes ?? []));
      if (outcome.actionResult === "FAILED") failure = new ActionFailedError(outcome.failure ?? `Deploying job '${common.jobName}' failed`);
    } else if (common.action) {
      const jobName = common.jobName!;
      const outcome = await backend.act({ action: common.action, jobName, inputs }, options);
      outputs = actionOutputs(outcome, jobName);
      notes.push(...(outcome.notes ?? []));
      if (outcome.actionResult === "FAILED") failure = actionFailed(common, outcome.failure, outputs, outcome.requestId);
    } else {
      const status = await backend.readStatus({ ...(common.jobName ? { jobName: common.jobName } : {}), ...(common.waitForStatus ? { waitForStatus: common.waitForStatus } : {}) }, options);
      const read = statusOutputs(status, common.jobName);
      outputs = read.outputs;
      if (read.jobsCut) {
        const note = `The jobs output holds the first ${read.jobsCut.kept} of ${read.jobsCut.total} records (jobCount has them all): a longer value could keep later steps from starting. Name a job to read it alone.`;
        host.logger.warning(note);
        notes.push(note);
      }
    }
  } catch (error) {
    failure = asCancellation(error, signal, common);
    // A wait that ended without a result still knows the job: its outputs are set all the same.
    const job = (error as { job?: JobView }).job;
    if (job) outputs = jobOutputs(job, common.jobName);
    const deployed = (error as { deploy?: Parameters<typeof deployOutputs>[0] }).deploy;
    if (deployed) outputs = { ...outputs, ...deployOutputs({ ...deployed, actionResult: undefined }, common.jobName!) };
  }
  // After a refused connection there is nothing more to read from the cluster.
  const facts = failure instanceof ConnectionError ? undefined : await summaryFacts(backend, outputs, common, signal, host);
  backend.close();
  // Outputs and the summary are written on failure too: a failed stop may still name its savepoint.
  for (const [name, value] of Object.entries(outputs)) host.setOutput(name, value);
  try {
    host.uploadSummary(
      `${spec.task}${common.jobName ? ` ${common.jobName}` : ""}`,
      renderSummary({
        task: spec.task,
        target: common.target,
        action: common.action,
        where: backend.describe(),
        outputs,
        durationMs: Date.now() - started,
        notes,
        timeline,
        ...(facts ? { facts } : {}),
        ...(failure ? { error: failure.message } : {}),
      }),
    );
  } catch (error) {
    // The summary is a courtesy: the step's result is the action's.
    host.logger.warning(`Could not attach the run summary: ${(error as Error).message}`);
  }
  if (failure) throw failure;
  return outputs;
}

/** How long the summary's own reads may take: it is a courtesy, the step's result is already known. */
const SUMMARY_FACTS_MS = 10_000;

/** The backend's facts for the summary, or none: a failure here is a debug line, never the step's. */
async function summaryFacts(backend: Backend<unknown>, outputs: Outputs, common: CommonInputs, signal: AbortSignal | undefined, host: PipelineHost): Promise<SummaryFacts | undefined> {
  if (!backend.summaryFacts || signal?.aborted) return undefined;
  const bound = AbortSignal.timeout(SUMMARY_FACTS_MS);
  try {
    return await backend.summaryFacts(
      { ...(outputs.jobName ?? common.jobName ? { jobName: outputs.jobName ?? common.jobName } : {}), ...(outputs.jobId ? { jobId: outputs.jobId } : {}), ...(outputs.jobStatus ? { jobStatus: outputs.jobStatus } : {}) },
      signal ? AbortSignal.any([signal, bound]) : bound,
    );
  } catch (error) {
    host.logger.debug(`The run summary goes without the cluster's facts: ${(error as Error).message}`);
    return undefined;
  }
}

function actionFailed(common: CommonInputs, said: string | undefined, outputs: Outputs, requestId: string | undefined): ActionFailedError {
  const hint = hintFor(said);
  // Without a status (Flink refused to run the jar) the cluster's words, cause first, follow at once.
  const ended = outputs.jobStatus ? `ended FAILED with status ${outputs.jobStatus}. The cluster said:` : "ended FAILED:";
  return new ActionFailedError(
    `${common.action} of job '${common.jobName}' ${ended} ${said ?? "(no job output)"}` +
      (hint ? `\n${hint}` : "") +
      (requestId ? `\n[${common.target === "hdinsightAks" ? "runJob request id" : "request id"} ${requestId}]` : ""),
  );
}

/** A failure caused by the pipeline's cancellation says so, and what may have happened. */
function asCancellation(error: unknown, signal: AbortSignal | undefined, common: CommonInputs): Error {
  if (!signal?.aborted || error instanceof CancelledError) return error instanceof Error ? error : new Error(String(error));
  const why = signal.reason instanceof Error ? signal.reason.message : "cancelled";
  return new CancelledError(
    common.action
      ? `The pipeline was cancelled (${why}) before ${common.action} of job '${common.jobName}' was posted; nothing was sent.`
      : `The pipeline was cancelled (${why}) while reading ${common.jobName ? `job '${common.jobName}'` : "the jobs"}; nothing was changed.`,
  );
}

/** A task's entry point: run the spec on the agent, map the outcome to the step's result. */
export function runTask(spec: TaskSpec): Promise<void> {
  // Required here, not at the top: task-lib writes ##vso[task.debug] lines as it loads, which the
  // flow's in-memory tests (importing this file for executeTask) must not print.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only a task's entry point loads the agent
  const { AgentHost } = require("./pipeline/agent-host") as typeof import("./pipeline/agent-host");
  const host = new AgentHost(`flink-jobs-azure-pipelines ${spec.task}/${taskVersion()} node/${process.versions.node}`);
  const cancel = new AbortController();
  const onSignal = (name: string) => () => cancel.abort(new Error(`received ${name}`));
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  return executeTask(spec, host, cancel.signal)
    .then((outputs) => {
      host.succeed(`${spec.task}: ${outputs.actionResult ?? "done"}${outputs.jobStatus ? `, job status ${outputs.jobStatus}` : ""}`);
    })
    .catch((error: unknown) => {
      const message = error instanceof InputError || error instanceof Error ? error.message : String(error);
      host.fail(message);
    })
    .finally(() => {
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
    });
}
