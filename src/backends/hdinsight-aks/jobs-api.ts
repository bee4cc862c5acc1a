import type { ArmClient, ArmResponse } from "../../azure/arm-client";
import { ArmError, describeUrl, MalformedAnswerError } from "../../errors";
import type { JobAction } from "../../jobs/backend";
import { type ApiVersion, hasRunId } from "./actions";
import type { JobProperties, JobRecord } from "./job-record";

export interface ClusterRef {
  subscriptionId: string;
  resourceGroupName: string;
  clusterPoolName: string;
  clusterName: string;
}

export type RunJobBody = { properties: JobProperties & { jobType: "FlinkJob"; jobName: string; action: JobAction } };

/** What the client needs of the job API; tests give a fake. */
export interface JobsApi {
  readonly cluster: ClusterRef;
  readonly apiVersion: ApiVersion;
  readonly client: ArmClient;
  runJob(body: RunJobBody, signal?: AbortSignal): Promise<ArmResponse>;
  listJobs(options?: { jobName?: string; signal?: AbortSignal }): Promise<JobRecord[]>;
}

const MAX_PAGES = 1000;

/** The two calls of the HDInsight on AKS job API: runJob and the job list. */
export class FlinkJobsApi implements JobsApi {
  /** `$filter` is undocumented in its quoting: off once the service refuses or ignores it. */
  private filterUsable = true;
  /** A filtered read has returned records: the service understands the filter. */
  private filterProven = false;

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
   * (`$filter`, 2023-11-01-preview on; its quoting is not documented) and we filter again. An
   * answer that is not a job list is a MalformedAnswerError, never an empty list.
   */
  async listJobs(options: { jobName?: string; signal?: AbortSignal } = {}): Promise<JobRecord[]> {
    const { jobName, signal } = options;
    const useFilter = jobName !== undefined && hasRunId(this.apiVersion) && this.filterUsable;
    if (!useFilter) {
      const all = await this.readPages(`${this.clusterPath}/jobs?api-version=${this.apiVersion}`, signal);
      return jobName === undefined ? all : all.filter((r) => r.properties.jobName === jobName);
    }
    const filter = encodeURIComponent(`jobName eq '${jobName.replace(/'/g, "''")}'`);
    let filtered: JobRecord[];
    try {
      filtered = await this.readPages(`${this.clusterPath}/jobs?api-version=${this.apiVersion}&$filter=${filter}`, signal);
    } catch (error) {
      if (error instanceof ArmError && error.status === 400) {
        // A service that does not understand the filter still lists every job.
        this.filterUsable = false;
        return this.listJobs(options);
      }
      throw error;
    }
    const named = filtered.filter((r) => r.properties.jobName === jobName);
    if (named.length) {
      this.filterProven = true;
      return named;
    }
    if (this.filterProven) return named;
    // Empty, and the filter never proved itself: a service may answer a quoting it does not
    // understand with an empty list. The whole list tells.
    const all = (await this.readPages(`${this.clusterPath}/jobs?api-version=${this.apiVersion}`, signal)).filter((r) => r.properties.jobName === jobName);
    if (all.length) this.filterUsable = false;
    return all;
  }

  private async readPages(first: string, signal: AbortSignal | undefined): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    let url: string | undefined = first;
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw new MalformedAnswerError(`The job list's nextLink did not end after ${MAX_PAGES} pages`);
      const response: ArmResponse<unknown> = await this.client.request({ method: "GET", url, signal, idempotent: true });
      const where = `GET ${describeUrl(this.client.resolve(url))}`;
      records.push(...jobPage(response, where));
      url = nextLink(response.data, where);
    }
    return records;
  }
}

/** One page of the list, checked: `{"value": [ {properties: {…}}, … ]}` and nothing less. */
export function jobPage(response: ArmResponse<unknown>, where: string): JobRecord[] {
  const ids = response.requestId ? ` [request id ${response.requestId}]` : "";
  const fail = (what: string): never => {
    throw new MalformedAnswerError(`The job list (${where}) answered ${response.status} with ${what}, not a list of jobs${ids}`);
  };
  if (response.status !== 200) fail(response.headers["location"] ? `a redirect to ${describeUrl(response.headers["location"])}` : "no list");
  const data = response.data;
  if (typeof data === "string") fail(`text (${JSON.stringify(data.slice(0, 60))}…)`);
  if (!data || typeof data !== "object" || Array.isArray(data)) fail(data === undefined ? "an empty body" : JSON.stringify(data).slice(0, 60));
  const value = (data as { value?: unknown }).value;
  if (!Array.isArray(value)) fail(`"value": ${value === undefined ? "missing" : JSON.stringify(value).slice(0, 60)}`);
  return (value as unknown[]).map((item, index) => {
    const properties = (item as { properties?: unknown } | null)?.properties;
    if (!item || typeof item !== "object" || !properties || typeof properties !== "object" || Array.isArray(properties)) {
      return fail(`item ${index} without an object of properties`);
    }
    return item as JobRecord;
  });
}

function nextLink(data: unknown, where: string): string | undefined {
  const link = (data as { nextLink?: unknown }).nextLink;
  if (link === undefined || link === null || link === "") return undefined;
  if (typeof link !== "string") throw new MalformedAnswerError(`The job list (${where}) has a nextLink that is not a URL: ${JSON.stringify(link).slice(0, 60)}`);
  return link;
}
