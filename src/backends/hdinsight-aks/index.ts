/**
 * HDInsight on AKS, one backend behind the flow's seam: ARM's runJob action and job list, read
 * through an Azure Resource Manager service connection.
 */
import { ArmClient } from "../../azure/arm-client";
import { authorityHost, createCredential, tokenScope } from "../../azure/credentials";
import { armHttpsAgent, identityClientOptions } from "../../azure/network";
import { ConnectionError } from "../../errors";
import type { ActionOutcome, Backend, BackendModule, BackendRequest, DeployRequest, StatusOutcome, WaitOptions } from "../../jobs/backend";
import type { DeployOutcome } from "../../jobs/deploy";
import type { Retention } from "../../jobs/savepoint-retention";
import type { PipelineHost } from "../../pipeline/host";
import { ACTIONS } from "./actions";
import { hdinsightDeploy, type JarStore } from "./deploy";
import { jarStorage } from "./jar-storage";
import { type HdInsightInputs, validateHdInsightInputs } from "./inputs";
import { FlinkJobsApi, type JobsApi } from "./jobs-api";
import { readStatus, type RecordsRead } from "./read-status";
import { type RecordOutcome, runAction, type RunActionOptions } from "./run-action";
import { checkSavepointExists } from "./savepoint-check";
import { disposeHdInsightSavepoint, pruneHdInsightSavepoints } from "./savepoint-dispose";
import { type SavepointStore, savepointStore } from "./savepoint-storage";
import { savepointFromOutput, savepointsFromList } from "./savepoints";
import { jobView } from "./view";

export type { HdInsightInputs };

export const hdinsightAksBackend: BackendModule<HdInsightInputs> = {
  target: "hdinsightAks",
  deploys: true,
  validate: validateHdInsightInputs,
  connect(host: PipelineHost, _common, inputs): Backend<HdInsightInputs> {
    const connection = host.serviceConnection("azureSubscription");
    const subscriptionId = (connection.data["subscriptionId"] ?? "").trim();
    if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(subscriptionId)) {
      throw new ConnectionError(`Service connection '${connection.id}' has no valid subscriptionId (found '${subscriptionId}')`);
    }
    const network = host.network(connection.url, authorityHost(connection));
    const httpsAgent = armHttpsAgent(network);
    const credential = createCredential(connection, {
      clientOptions: identityClientOptions(network, host.userAgent),
      onToken: (token) => host.setSecret(token),
    });
    const client = new ArmClient({ baseUrl: connection.url, credential, scope: tokenScope(connection), userAgent: host.userAgent, httpsAgent, logger: host.logger });
    const cluster = { subscriptionId, resourceGroupName: inputs.resourceGroupName, clusterPoolName: inputs.clusterPoolName, clusterName: inputs.clusterName };
    const jars = async () => {
      const make = await jarStorage();
      if (!make) throw new Error("This task was built without jar storage (only FlinkJobDeploy uploads jars)");
      return make({ credential, network, userAgentPrefix: host.userAgent, logger: host.logger });
    };
    const savepoints = async () => {
      const make = await savepointStore();
      if (!make) throw new Error("This task was built without savepoint storage (only FlinkSavepoint and FlinkJobDeploy remove savepoints)");
      return make({ credential, network, userAgentPrefix: host.userAgent, logger: host.logger });
    };
    return new HdInsightBackend(
      new FlinkJobsApi(client, cluster, inputs.apiVersion),
      () => {
        host.logger.debug(`${client.requestCount} Resource Manager requests.`);
        httpsAgent?.destroy();
      },
      {},
      { jars, savepoints, workingDirectory: host.workingDirectory() },
    );
  },
};

/** What a deployment needs beside the job API. */
export interface DeploySupport {
  /** Made on first use: a task that does not deploy never builds the storage client. */
  jars: () => JarStore | Promise<JarStore>;
  /** FlinkSavepoint dispose and prune, FlinkJobDeploy retainSavepoints: the savepoint folders in the same storage, with the same credential. */
  savepoints?: () => Promise<SavepointStore>;
  workingDirectory: string;
}

/** The connected backend. Exported for tests, which give it a fake job API. */
export class HdInsightBackend implements Backend<HdInsightInputs> {
  readonly target = "hdinsightAks" as const;

  constructor(
    private readonly api: JobsApi,
    private readonly onClose: () => void = () => {},
    /** Tests shorten the schedule and windows; users never need to. */
    private readonly tuning: Pick<RunActionOptions, "minPollIntervalMs" | "ambiguityWindowMs" | "silentLimitMs" | "operationHeadStartMs"> = {},
    private readonly deploySupport?: DeploySupport,
  ) {}

  async deploy(request: DeployRequest<HdInsightInputs>, options: WaitOptions): Promise<DeployOutcome> {
    if (!this.deploySupport) throw new Error("This HDInsight backend was built without jar storage, so it cannot deploy");
    const outcome = await hdinsightDeploy({ api: this.api, jars: await this.deploySupport.jars(), workingDirectory: this.deploySupport.workingDirectory, tuning: this.tuning }, request, options);
    if (outcome.actionResult === "SUCCESS" && request.inputs.retention) await this.retainSavepoints(request.jobName, request.inputs.retention, options);
    return outcome;
  }

  /** FlinkJobDeploy's retainSavepoints, after a successful deploy (so past its health check): a prune whose failure is only a warning. */
  private async retainSavepoints(jobName: string, retention: Retention, options: WaitOptions): Promise<void> {
    const log = options.logger;
    log.info(`retainSavepoints: keeping the newest ${retention.keepLast} savepoint(s) of job '${jobName}' and the protected ones.`);
    try {
      const runOptions: RunActionOptions = { ...(options.signal ? { signal: options.signal } : {}), timeoutMs: options.timeoutMs, waitForCompletion: true, maxPollIntervalMs: options.maxPollIntervalMs, logger: log, ...this.tuning };
      const outcome = await pruneHdInsightSavepoints(this.api, jobName, retention, runOptions, this.deploySupport?.savepoints);
      if (outcome.actionResult === "FAILED") log.warning(`retainSavepoints: ${outcome.failure}`);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      log.warning(`retainSavepoints: the deploy succeeded, but its savepoints were not pruned: ${(error as Error).message}`);
    }
  }

  describe(): Array<[string, string]> {
    const c = this.api.cluster;
    const portal =
      `https://portal.azure.com/#resource/subscriptions/${encodeURIComponent(c.subscriptionId)}` +
      `/resourceGroups/${encodeURIComponent(c.resourceGroupName)}/providers/Microsoft.HDInsight/clusterpools/` +
      `${encodeURIComponent(c.clusterPoolName)}/clusters/${encodeURIComponent(c.clusterName)}/overview`;
    return [
      ["Cluster", `${c.clusterName} (pool ${c.clusterPoolName}, group ${c.resourceGroupName})`],
      ["Portal", portal],
    ];
  }

  async act(request: BackendRequest<HdInsightInputs>, options: WaitOptions): Promise<ActionOutcome> {
    const log = options.logger;
    for (const warning of request.inputs.warnings) log.warning(warning);
    const started = Date.now();
    const runOptions: RunActionOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      timeoutMs: options.timeoutMs,
      waitForCompletion: options.waitForCompletion,
      maxPollIntervalMs: options.maxPollIntervalMs,
      logger: log,
      onProgress: options.onProgress ?? ((seen) => log.debug(`Waiting: ${seen}`)),
      ...this.tuning,
    };
    if (request.action === "DISPOSE_SAVEPOINT") return disposeHdInsightSavepoint(this.api, request.jobName, request.inputs.definition.savePointName!, runOptions, this.deploySupport?.savepoints);
    if (request.action === "PRUNE_SAVEPOINTS") return pruneHdInsightSavepoints(this.api, request.jobName, request.inputs.retention!, runOptions, this.deploySupport?.savepoints);
    const actionRequest = { action: request.action, jobName: request.jobName, definition: request.inputs.definition };
    const named = request.inputs.definition.savePointName;
    if (named) await checkSavepointExists(this.api, request.jobName, named, runOptions);
    const c = this.api.cluster;
    log.info(`${request.action} job '${request.jobName}' on cluster '${c.clusterName}' (pool '${c.clusterPoolName}', api-version ${this.api.apiVersion}).`);
    // The check's time comes out of the action's budget, but the action keeps at least a minute.
    const remaining = Math.max(60_000, options.timeoutMs - (Date.now() - started));
    return this.outcome(request, await runAction(this.api, actionRequest, { ...runOptions, timeoutMs: Math.min(options.timeoutMs, remaining) }));
  }

  async readStatus(query: { jobName?: string; waitForStatus?: string }, options: WaitOptions): Promise<StatusOutcome> {
    const c = this.api.cluster;
    options.logger.info(`Reading ${query.jobName ? `job '${query.jobName}'` : "every job"} on cluster '${c.clusterName}' (pool '${c.clusterPoolName}').`);
    const read: RecordsRead = await readStatus(this.api, {
      ...query,
      timeoutMs: options.timeoutMs,
      maxPollIntervalMs: options.maxPollIntervalMs,
      ...(this.tuning.minPollIntervalMs ? { minPollIntervalMs: this.tuning.minPollIntervalMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      logger: options.logger,
      onProgress: options.onProgress ?? ((seen) => options.logger.debug(`Waiting: ${seen}`)),
    });
    const status: StatusOutcome = { jobs: read.records.map((r) => r.properties) };
    if (query.jobName) status.job = jobView(read.record, query.jobName, this.api.apiVersion);
    if (read.record?.properties.actionResult !== undefined) status.actionResult = read.record.properties.actionResult;
    return status;
  }

  close(): void {
    this.onClose();
  }

  /** The records' outcome as the flow reads it: the job, the savepoint written or listed, the failure text. */
  private outcome(request: { action: keyof typeof ACTIONS; jobName: string }, result: RecordOutcome): ActionOutcome {
    const spec = ACTIONS[request.action];
    const p = result.record?.properties;
    const outcome: ActionOutcome = { actionResult: result.actionResult, job: jobView(result.record, request.jobName, this.api.apiVersion) };
    if (result.requestId) outcome.requestId = result.requestId;
    if (spec.writesSavepoint && result.actionResult !== "IN_PROGRESS") {
      // The savepoint this action wrote: named in its own output, or the new lastSavePoint. A
      // failed stop can still have written one, and that path is the hand-off to a restart.
      const written = savepointFromOutput(p?.jobOutput) ?? (p?.lastSavePoint !== result.before?.properties.lastSavePoint ? p?.lastSavePoint : undefined);
      if (written) outcome.savepointPath = written;
    }
    if (spec.listsSavepoints && result.actionResult === "SUCCESS") outcome.savepoints = savepointsFromList(p?.jobOutput).map((path) => ({ path, time: null, origin: null, jobId: null, restoredByLive: null }));
    if (result.actionResult === "FAILED") outcome.failure = p?.jobOutput ?? "(no job output)";
    return outcome;
  }
}
