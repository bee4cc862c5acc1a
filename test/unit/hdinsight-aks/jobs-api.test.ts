/**
 * The job list as the client reads it: every page, the undocumented `$filter` and what happens
 * when the service does not understand it, and answers that are not job lists.
 */
import assert from "node:assert/strict";
import type { ArmClient, ArmRequest, ArmResponse } from "../../../src/azure/arm-client";
import { FlinkJobsApi } from "../../../src/backends/hdinsight-aks/jobs-api";
import { ArmError, MalformedAnswerError } from "../../../src/errors";

const cluster = { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1" };
const item = (jobName: string, runId: string) => ({ id: `/x/jobs/${runId}`, properties: { jobType: "FlinkJob", jobName, runId, status: "RUNNING" } });

/** An ARM client that answers each GET from a function of its URL, and records the URLs. */
function fakeClient(answer: (url: URL) => Partial<ArmResponse> | Error): { client: ArmClient; urls: URL[] } {
  const urls: URL[] = [];
  const client = {
    resolve: (url: string) => (url.startsWith("https://") ? url : `https://management.azure.com${url}`),
    request: async (req: ArmRequest) => {
      const url = new URL(client.resolve(req.url));
      urls.push(url);
      const a = answer(url);
      if (a instanceof Error) throw a;
      return { status: 200, headers: {}, requestId: "req-1", clientRequestId: "c", ...a };
    },
  };
  return { client: client as unknown as ArmClient, urls };
}

describe("the job list (FlinkJobsApi.listJobs)", () => {
  it("follows nextLink across pages, verbatim, and keeps every record", async () => {
    const { client, urls } = fakeClient((url) => {
      const page = url.searchParams.get("$skipToken");
      if (!page) return { data: { value: [item("a", "job-1")], nextLink: "https://management.azure.com/x/jobs?api-version=2024-05-01-preview&$skipToken=p2" } };
      if (page === "p2") return { data: { value: [item("b", "job-2")], nextLink: "https://management.azure.com/x/jobs?api-version=2024-05-01-preview&$skipToken=p3" } };
      return { data: { value: [item("c", "job-3")] } };
    });
    const records = await new FlinkJobsApi(client, cluster, "2024-05-01-preview").listJobs();
    assert.deepEqual(records.map((r) => r.properties.jobName), ["a", "b", "c"]);
    assert.deepEqual(urls.map((u) => u.searchParams.get("$skipToken")), [null, "p2", "p3"]);
  });

  it("sends jobName eq 'x' and filters again itself; a 400 to the filter falls back to the whole list, for good", async () => {
    const { client, urls } = fakeClient((url) =>
      url.searchParams.get("$filter") ? new ArmError({ status: 400, code: "InvalidFilterParameter", message: "no" }) : { data: { value: [item("a", "job-1"), item("orders", "job-2")] } },
    );
    const api = new FlinkJobsApi(client, cluster, "2024-05-01-preview");
    assert.deepEqual((await api.listJobs({ jobName: "orders" })).map((r) => r.properties.runId), ["job-2"]);
    assert.equal(urls[0]!.searchParams.get("$filter"), "jobName eq 'orders'");
    await api.listJobs({ jobName: "orders" });
    assert.deepEqual(urls.map((u) => u.searchParams.has("$filter")), [true, false, false], "the refused filter is not sent again");
  });

  it("a service that answers a quoting it does not understand with an empty 200: the whole list is asked, and the filter dropped", async () => {
    const { client, urls } = fakeClient((url) => (url.searchParams.get("$filter") ? { data: { value: [] } } : { data: { value: [item("orders", "job-2")] } }));
    const api = new FlinkJobsApi(client, cluster, "2024-05-01-preview");
    assert.equal((await api.listJobs({ jobName: "orders" })).length, 1);
    assert.equal((await api.listJobs({ jobName: "orders" })).length, 1);
    assert.deepEqual(urls.map((u) => u.searchParams.has("$filter")), [true, false, false]);
  });

  it("a filter that has proved itself is trusted when it answers empty", async () => {
    let exists = true;
    const { client, urls } = fakeClient((url) => ({ data: { value: exists && url.searchParams.get("$filter") ? [item("orders", "job-2")] : [] } }));
    const api = new FlinkJobsApi(client, cluster, "2024-05-01-preview");
    assert.equal((await api.listJobs({ jobName: "orders" })).length, 1);
    exists = false;
    assert.equal((await api.listJobs({ jobName: "orders" })).length, 0);
    assert.equal(urls.length, 2, "no cross-check once the filter has returned records");
  });

  it("no $filter on 2023-06-01-preview, whose spec has none", async () => {
    const { client, urls } = fakeClient(() => ({ data: { value: [item("orders", "job-2")] } }));
    await new FlinkJobsApi(client, cluster, "2023-06-01-preview").listJobs({ jobName: "orders" });
    assert.equal(urls[0]!.searchParams.has("$filter"), false);
  });

  const malformed: [string, Partial<ArmResponse>, RegExp][] = [
    ["an HTML page with 200", { data: "<html><body>Sign in</body></html>" }, /answered 200 with text/],
    ['{"value": null}', { data: { value: null } }, /"value": null/],
    ['{"value": {}}', { data: { value: {} } }, /"value": \{\}/],
    ["no value at all", { data: { items: [] } }, /"value": missing/],
    ["an empty body", { data: undefined }, /an empty body/],
    ["a redirect", { status: 302, headers: { location: "https://login.example/x" } }, /answered 302 with a redirect/],
    ["an item without properties", { data: { value: [{ id: "x" }] } }, /item 0 without an object of properties/],
    ["a nextLink that is not a string", { data: { value: [], nextLink: 5 } }, /nextLink that is not a URL/],
  ];
  for (const [what, answer, message] of malformed) {
    it(`${what} is a MalformedAnswerError naming what came, never an empty list`, async () => {
      const { client } = fakeClient(() => answer);
      await assert.rejects(new FlinkJobsApi(client, cluster, "2024-05-01-preview").listJobs(), (error: Error) => {
        assert.ok(error instanceof MalformedAnswerError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
