import * as fs from "node:fs";
import * as path from "node:path";
import { ArmClient } from "./azure/arm-client";
import { authorityHost, createCredential, tokenScope } from "./azure/credentials";
import { armHttpsAgent, identityClientOptions } from "./azure/network";
import { ActionFailedError, ConnectionError, InputError } from "./errors";
import { FlinkJobsApi } from "./flink/jobs-api";
import { readStatus } from "./flink/read-status";
import { type ActionRequest, runAction, type RunActionOptions } from "./flink/run-action";
import { checkSavepointExists } from "./flink/savepoint-check";
import { AgentHost } from "./pipeline/agent-host";
import type { PipelineHost } from "./pipeline/host";
import { actionOutputs, type Outputs, statusOutputs } from "./report/outputs";
import { hintFor } from "./report/hints";
import { renderSummary } from "./report/summary";
import { type TaskSpec, validateTask, type ValidatedTask } from "./validation/task-inputs";

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

/** Tuning a test or the benchmark may set; users never need to. */
export interface FlowTuning {
  minPollIntervalMs?: number;
  ambiguityWindowMs?: number;
  unchangedGraceMs?: number;
}

/**
 * The flow every task shares: read inputs → validate → connect → act → wait → report.
 * Returns the outputs it set; throws the error the step fails with.
 */
export async function executeTask(spec: TaskSpec, host: PipelineHost, signal?: AbortSignal, tuning: FlowTuning = {}): Promise<Outputs> {
  const started = Date.now();
  const task = validateTask(spec, (name) => host.input(name));
  const connection = host.serviceConnection("azureSubscription");
  const subscriptionId = (connection.data["subscriptionId"] ?? "").trim();
  if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(subscriptionId)) {
    throw new ConnectionError(`Service connection '${connection.id}' has no valid subscriptionId (found '${subscriptionId}')`);
  }
  const cluster = { subscriptionId, resourceGroupName: task.resourceGroupName, clusterPoolName: task.clusterPoolName, clusterName: task.clusterName };

  const network = host.network(connection.url, authorityHost(connection));
  const httpsAgent = armHttpsAgent(network);
  const credential = createCredential(connection, {
    clientOptions: identityClientOptions(network, host.userAgent),
    onToken: (token) => host.setSecret(token),
  });
  const client = new ArmClient({ baseUrl: connection.url, credential, scope: tokenScope(connection), userAgent: host.userAgent, httpsAgent, logger: host.logger });
  const api = new FlinkJobsApi(client, cluster, task.apiVersion);

  let outputs: Outputs = {};
  let failure: Error | undefined;
  try {
    if (task.request) {
      const outcome = await act(api, task, task.request, host, signal, tuning);
      outputs = actionOutputs(task, outcome);
      if (outcome.actionResult === "FAILED") {
        failure = new ActionFailedError(
          `${task.request.action} of job '${task.request.jobName}' ended FAILED with status ${outputs.jobStatus ?? "unknown"}. The cluster said: ${outputs.jobOutput ?? "(no job output)"}` +
            (hintFor(outputs.jobOutput) ? `\n${hintFor(outputs.jobOutput)}` : "") +
            (outcome.requestId ? `\n[runJob request id ${outcome.requestId}]` : ""),
        );
      }
    } else {
      const status = await readJobs(api, task, host, signal, tuning);
      outputs = statusOutputs(task, status.records, status.record);
    }
  } catch (error) {
    failure = error as Error;
  }
  // Outputs and the summary are written on failure too: a failed stop may still name its savepoint.
  for (const [name, value] of Object.entries(outputs)) host.setOutput(name, value);
  host.logger.debug(`${client.requestCount} Resource Manager requests.`);
  host.uploadSummary(
    `${spec.task}${task.jobName ? ` ${task.jobName}` : ""}`,
    renderSummary({ task: spec.task, action: task.request?.action, cluster, outputs, durationMs: Date.now() - started, ...(failure ? { error: failure.message } : {}) }),
  );
  httpsAgent?.destroy();
  if (failure) throw failure;
  return outputs;
}

/** An action: the savepoint check where one is named, then the action and its wait. */
async function act(api: FlinkJobsApi, task: ValidatedTask, request: ActionRequest, host: PipelineHost, signal: AbortSignal | undefined, tuning: FlowTuning) {
  const options: RunActionOptions = {
    signal,
    timeoutMs: task.timeoutMs,
    waitForCompletion: task.waitForCompletion,
    maxPollIntervalMs: task.maxPollIntervalMs,
    logger: host.logger,
    onProgress: (seen) => host.logger.debug(`Waiting: ${seen}`),
    ...tuning,
  };
  if (request.definition.savePointName) await checkSavepointExists(api, request.jobName, request.definition.savePointName, options);
  host.logger.info(`${request.action} job '${request.jobName}' on cluster '${api.cluster.clusterName}' (pool '${api.cluster.clusterPoolName}', api-version ${task.apiVersion}).`);
  return runAction(api, request, options);
}

/** FlinkJobStatus: one job or every job, optionally until the job has a status. */
function readJobs(api: FlinkJobsApi, task: ValidatedTask, host: PipelineHost, signal: AbortSignal | undefined, tuning: FlowTuning) {
  host.logger.info(`Reading ${task.jobName ? `job '${task.jobName}'` : "every job"} on cluster '${api.cluster.clusterName}' (pool '${api.cluster.clusterPoolName}').`);
  return readStatus(api, {
    ...(task.jobName ? { jobName: task.jobName } : {}),
    ...(task.waitForStatus ? { waitForStatus: task.waitForStatus } : {}),
    timeoutMs: task.timeoutMs,
    maxPollIntervalMs: task.maxPollIntervalMs,
    ...(tuning.minPollIntervalMs ? { minPollIntervalMs: tuning.minPollIntervalMs } : {}),
    signal,
    onProgress: (seen) => host.logger.debug(`Waiting: ${seen}`),
  });
}

/** A task's entry point: run the spec on the agent, map the outcome to the step's result. */
export function runTask(spec: TaskSpec): Promise<void> {
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
