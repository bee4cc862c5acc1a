import assert from "node:assert/strict";
import nock from "nock";
import { ArmClient } from "../../src/azure/arm-client";
import { pollOperation } from "../../src/azure/long-running-operation";
import { UntrustedUrlError } from "../../src/azure/arm-client";
import { OperationFailedError } from "../../src/errors";

const base = "https://arm.test";
const client = new ArmClient({
  baseUrl: base,
  credential: { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600_000 }) },
  scope: `${base}/.default`,
  userAgent: "test",
  retryDelayMs: 1,
});
const post = () => client.request({ method: "POST", url: "/runJob", body: {}, idempotent: false });
const fast = { nextDelayMs: () => 5 };

describe("runJob as a long-running operation", () => {
  afterEach(() => nock.cleanAll());

  it("follows Azure-AsyncOperation verbatim (signature parameters untouched) until Succeeded", async () => {
    const status = "/providers/Microsoft.HDInsight/locations/WESTUS2/operationStatuses/abc*0F?api-version=2024-05-01-preview&t=1&c=2&s=3&h=4";
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": `${base}${status}`, Location: `${base}${status}` });
    const polls = nock(base).get(status).reply(202, { status: "Accepted" }).get(status).reply(200, { status: "Succeeded", properties: { jobStatus: "SUBMITTED" } });
    const outcome = await pollOperation(client, await post(), fast);
    assert.equal(outcome.kind, "succeeded");
    assert.ok(polls.isDone());
  });

  it("surfaces a Failed operation with the service's code, message and request id", async () => {
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": `${base}/op/1` });
    nock(base).get("/op/1").reply(200, { status: "Failed", error: { code: "Conflict", message: "Another action is in progress on job 'x'" } }, { "x-ms-request-id": "req-9" });
    await assert.rejects(pollOperation(client, await post(), fast), (e: unknown) => {
      assert.ok(e instanceof OperationFailedError);
      assert.equal(e.message.split(" [")[0], "The runJob operation ended Failed: Conflict: Another action is in progress on job 'x'");
      assert.match(e.message, /request id req-9/);
      return true;
    });
  });

  it("falls back to Location when there is no Azure-AsyncOperation: 202 until done", async () => {
    nock(base).post("/runJob").reply(202, "null", { Location: `${base}/loc/1` });
    nock(base).get("/loc/1").reply(202, "", { Location: `${base}/loc/2` }).get("/loc/2").reply(200, { done: true });
    assert.deepEqual(await pollOperation(client, await post(), fast), { kind: "succeeded", body: { done: true }, requestId: undefined });
  });

  it("takes a synchronous 200 with a job body as done", async () => {
    nock(base).post("/runJob").reply(200, { properties: { jobName: "x", actionResult: "IN_PROGRESS" } });
    const outcome = await pollOperation(client, await post(), fast);
    assert.equal(outcome.kind, "succeeded");
  });

  it("honours Retry-After on the operation", async () => {
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": `${base}/op/2`, "Retry-After": "1" });
    nock(base).get("/op/2").reply(200, { status: "Succeeded" });
    const started = Date.now();
    await pollOperation(client, await post(), fast);
    assert.ok(Date.now() - started >= 1000);
  });

  it("a huge Retry-After on the operation is cut to maxDelayMs (no timer overflow, no 1 ms loop)", async () => {
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": `${base}/op/3` });
    nock(base).get("/op/3").times(2).reply(200, { status: "Accepted" }, { "Retry-After": "999999999" });
    nock(base).get("/op/3").reply(200, { status: "Succeeded" });
    const started = Date.now();
    await pollOperation(client, await post(), { ...fast, maxDelayMs: 300 });
    assert.ok(Date.now() - started >= 2 * 300 - 10, `polled again after ${Date.now() - started} ms`);
  });

  it("Retry-After: 0 on the operation waits minDelayMs, not a busy loop", async () => {
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": `${base}/op/4`, "Retry-After": "0" });
    nock(base).get("/op/4").times(2).reply(200, { status: "Accepted" }, { "Retry-After": "0" });
    nock(base).get("/op/4").reply(200, { status: "Succeeded" });
    const started = Date.now();
    await pollOperation(client, await post(), { ...fast, minDelayMs: 200 });
    assert.ok(Date.now() - started >= 3 * 200 - 10, `three polls in ${Date.now() - started} ms`);
  });

  it("does not follow an operation URL on another host: the token stays with Resource Manager", async () => {
    nock(base).post("/runJob").reply(202, "null", { "Azure-AsyncOperation": "https://collector.test/op/5" });
    const collector = nock("https://collector.test").get("/op/5").reply(200, { status: "Succeeded" });
    await assert.rejects(pollOperation(client, await post(), fast), (e: unknown) => e instanceof UntrustedUrlError && /collector\.test/.test(e.message));
    assert.equal(collector.isDone(), false);
  });

  it("does not follow an http:// Location", async () => {
    nock(base).post("/runJob").reply(202, "null", { Location: "http://arm.test/loc/9" });
    const plain = nock("http://arm.test").get("/loc/9").reply(200, {});
    await assert.rejects(pollOperation(client, await post(), fast), UntrustedUrlError);
    assert.equal(plain.isDone(), false);
  });
});
