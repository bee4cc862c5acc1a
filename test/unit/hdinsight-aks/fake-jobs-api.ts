/**
 * An in-memory HDInsight on AKS job API for the wait's unit tests: each list read answers the
 * next scripted answer (records, or an error to throw), the last one repeating; runJob answers as
 * told. Runs in milliseconds, no network.
 */
import type { ArmClient, ArmResponse } from "../../../src/azure/arm-client";
import type { ApiVersion } from "../../../src/backends/hdinsight-aks/actions";
import type { JobProperties, JobRecord } from "../../../src/backends/hdinsight-aks/job-record";
import type { ClusterRef, JobsApi, RunJobBody } from "../../../src/backends/hdinsight-aks/jobs-api";

export type ListAnswer = JobRecord[] | Error | ((call: number) => JobRecord[] | Error);
export type PostAnswer = Partial<ArmResponse> | Error;

export class FakeJobsApi implements JobsApi {
  readonly cluster: ClusterRef = { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1" };
  readonly posts: RunJobBody[] = [];
  /** Every call in order: "list" or "post:<ACTION>". */
  readonly calls: string[] = [];
  listCalls = 0;
  /** Answers to the operation-status URL (the last repeats); none: the POST answers 200. */
  operationAnswers: Array<Partial<ArmResponse> | Error> = [];
  operationCalls = 0;
  readonly client: ArmClient;

  constructor(
    private readonly lists: ListAnswer[],
    private readonly postAnswers: PostAnswer[] = [{ status: 200 }],
    readonly apiVersion: ApiVersion = "2024-05-01-preview",
  ) {
    const fake = {
      request: async () => {
        const answer = this.operationAnswers[Math.min(this.operationCalls++, this.operationAnswers.length - 1)];
        if (answer instanceof Error) throw answer;
        return { status: 200, headers: {}, data: undefined, requestId: "op-req", clientRequestId: "c", ...answer };
      },
      resolve: (url: string) => url,
      requestCount: 0,
    };
    this.client = fake as unknown as ArmClient;
  }

  async runJob(body: RunJobBody): Promise<ArmResponse> {
    this.posts.push(body);
    this.calls.push(`post:${body.properties.action}`);
    const answer = this.postAnswers[Math.min(this.posts.length - 1, this.postAnswers.length - 1)]!;
    if (answer instanceof Error) throw answer;
    return { status: 200, headers: {}, data: null, requestId: `req-${this.posts.length}`, clientRequestId: "c", ...answer };
  }

  async listJobs(options: { jobName?: string } = {}): Promise<JobRecord[]> {
    this.calls.push("list");
    const call = this.listCalls++;
    let answer = this.lists[Math.min(call, this.lists.length - 1)]!;
    if (typeof answer === "function") answer = answer(call);
    if (answer instanceof Error) throw answer;
    return options.jobName === undefined ? answer : answer.filter((r) => r.properties.jobName === options.jobName);
  }
}

/** A record as the service lists it (runId, id), with the given properties. */
export function record(runId: string, properties: Partial<JobProperties>): JobRecord {
  return { id: `/subscriptions/x/jobs/${runId}`, properties: { jobType: "FlinkJob", runId, jobName: "orders", ...properties } };
}

export const running = (runId = "job-aaa-4aaa-8aaa-aaaaaaaaaaaa", more: Partial<JobProperties> = {}) =>
  record(runId, { action: "NEW", actionResult: "SUCCESS", status: "RUNNING", jobId: "25e318907f786a2c6aee392df6580035", jobOutput: "Flink internal job status : RUNNING", ...more });
