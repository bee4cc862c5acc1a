import assert from "node:assert/strict";
import nock from "nock";
import { ArmClient } from "../../src/azure/arm-client";
import { pollOperation } from "../../src/azure/long-running-operation";
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
});
