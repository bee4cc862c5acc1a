import type { ArmClient, ArmResponse } from "../azure/arm-client";
import { ArmError } from "../errors";
import { type ApiVersion, type FlinkAction, hasRunId } from "./actions";
import type { JobProperties, JobRecord } from "./job-record";

export interface ClusterRef {
  subscriptionId: string;
  resourceGroupName: string;
  clusterPoolName: string;
  clusterName: string;
}

export type RunJobBody = { properties: JobProperties & { jobType: "FlinkJob"; jobName: string; action: FlinkAction } };

/** The two calls of the HDInsight on AKS job API: runJob and the job list. */
export class FlinkJobsApi {
  private filterRefused = false;

  constructor(
    readonly client: ArmClient,
    readonly cluster: ClusterRef,
    readonly apiVersion: ApiVersion,
  ) {}

  get clusterPath(): string {
    const c = this.cluster;
    return (
      `/subscriptions/${encodeURIComponent(c.subscriptionId)}/resourceGroups/${encodeURIComponent(c.resourceGroupName)}` +
      `/providers/Microsoft.HDInsight/clusterpools/${encodeURIComponent(c.clusterPoolName)}/clusters/${encodeURIComponent(c.clusterName)}`
    );
  }

  runJob(body: RunJobBody, signal?: AbortSignal): Promise<ArmResponse> {
    return this.client.request({
      method: "POST",
      url: `${this.clusterPath}/runJob?api-version=${this.apiVersion}`,
      body,
      signal,
      idempotent: false,
    });
  }

  /**
   * The cluster's job records, every page. With a job name the service filters where it can
   * (`$filter`, 2023-11-01-preview on; its quoting is not documented) and we filter again.
   */
  async listJobs(options: { jobName?: string; signal?: AbortSignal } = {}): Promise<JobRecord[]> {
    const useFilter = options.jobName !== undefined && hasRunId(this.apiVersion) && !this.filterRefused;
    let url = `${this.clusterPath}/jobs?api-version=${this.apiVersion}`;
    if (useFilter) url += `&$filter=${encodeURIComponent(`jobName eq '${options.jobName!.replace(/'/g, "''")}'`)}`;
    const records: JobRecord[] = [];
    try {
      for (let page = 0; url; page++) {
        if (page > 1000) throw new Error("The job list's nextLink did not end after 1000 pages");
        const response = await this.client.request<{ value?: JobRecord[]; nextLink?: string }>({
          method: "GET",
          url,
          signal: options.signal,
          idempotent: true,
        });
        for (const item of response.data?.value ?? []) {
          if (item && typeof item === "object" && item.properties) records.push(item);
        }
        url = response.data?.nextLink ?? "";
      }
    } catch (error) {
      if (useFilter && error instanceof ArmError && error.status === 400) {
        // A service that does not understand the filter still lists every job.
        this.filterRefused = true;
        return this.listJobs(options);
      }
      throw error;
    }
    return options.jobName === undefined ? records : records.filter((r) => r.properties.jobName === options.jobName);
  }
}
