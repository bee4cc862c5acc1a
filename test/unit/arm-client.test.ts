import assert from "node:assert/strict";
import nock from "nock";
import { ArmClient, retryAfterMs } from "../../src/azure/arm-client";
import { AmbiguousRequestError, ArmError, ConnectionError } from "../../src/errors";
import { PollingSchedule } from "../../src/jobs/polling";

const base = "https://arm.test";
const credential = { getToken: async () => ({ token: "tkn", expiresOnTimestamp: Date.now() + 3600_000 }) };
const client = (extra: Partial<ConstructorParameters<typeof ArmClient>[0]> = {}) =>
  new ArmClient({ baseUrl: base, credential, scope: `${base}/.default`, userAgent: "test/1", retryDelayMs: 10, maxRetryDelayMs: 50, ...extra });

describe("ArmClient", () => {
  afterEach(() => nock.cleanAll());

  it("waits at least the Retry-After the service asks for, then succeeds", async () => {
    nock(base).get("/x").reply(429, { error: { code: "TooManyRequests", message: "slow down" } }, { "Retry-After": "1" });
    nock(base).get("/x").reply(200, { ok: true }, { "x-ms-request-id": "r2" });
    const started = Date.now();
    const response = await client().request<{ ok: boolean }>({ method: "GET", url: "/x", idempotent: true });
    assert.ok(Date.now() - started >= 1000, "retried before Retry-After elapsed");
    assert.deepEqual(response.data, { ok: true });
    assert.equal(response.requestId, "r2");
  });

  it("retries 500, 502, 503 and 504 on reads", async () => {
    for (const status of [500, 502, 503, 504]) nock(base).get("/x").reply(status, "");
    nock(base).get("/x").reply(200, "null");
    const response = await client().request({ method: "GET", url: "/x", idempotent: true });
    assert.equal(response.data, null);
  });

  it("does not retry a 5xx on a POST: the action may have been accepted", async () => {
    const scope = nock(base).post("/run").reply(503, { error: { code: "ServiceUnavailable", message: "busy" } });
    await assert.rejects(client().request({ method: "POST", url: "/run", body: {}, idempotent: false }), AmbiguousRequestError);
    assert.ok(scope.isDone());
  });

  it("retries a 429 on a POST: a throttled request was not processed", async () => {
    nock(base).post("/run").reply(429, "", { "Retry-After": "0" });
    nock(base).post("/run").reply(202, "null");
    assert.equal((await client().request({ method: "POST", url: "/run", body: {}, idempotent: false })).status, 202);
  });

  it("reports the service's code, message and request id", async () => {
    nock(base)
      .get("/x")
      .reply(403, { error: { code: "AuthorizationFailed", message: "no runjob/action" } }, { "x-ms-request-id": "req-123" });
    await assert.rejects(client().request({ method: "GET", url: "/x", idempotent: true }), (e: unknown) => {
      assert.ok(e instanceof ArmError);
      assert.equal(e.code, "AuthorizationFailed");
      assert.match(e.message, /403 AuthorizationFailed: no runjob\/action/);
      assert.match(e.message, /request id req-123/);
      return true;
    });
  });

  it("says the service connection could not get a token", async () => {
    const failing = { getToken: async () => Promise.reject(new Error("AADSTS7000215: Invalid client secret provided.")) };
    await assert.rejects(client({ credential: failing }).request({ method: "GET", url: "/x", idempotent: true }), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.match(e.message, /AADSTS7000215/);
      return true;
    });
  });

  it("reads Retry-After as seconds, as a date, and in milliseconds", () => {
    assert.equal(retryAfterMs({ "retry-after": "3" }), 3000);
    assert.equal(retryAfterMs({ "retry-after-ms": "250" }), 250);
    const inTwo = new Date(Date.now() + 2000).toUTCString();
    assert.ok(Math.abs(retryAfterMs({ "retry-after": inTwo })! - 2000) < 1100);
    assert.equal(retryAfterMs({}), undefined);
  });
});

describe("PollingSchedule", () => {
  it("reads every second at first and at most every pollingIntervalInSeconds, about 77 reads in 10 minutes", () => {
    let now = 0;
    const schedule = new PollingSchedule(10_000, 1000, () => now);
    let reads = 0;
    const gaps: number[] = [];
    while (now < 600_000) {
      const gap = schedule.nextDelayMs();
      gaps.push(gap);
      now += gap;
      reads++;
    }
    assert.equal(gaps[0], 1000);
    assert.ok(gaps.every((g) => g >= 1000 && g <= 10_000));
    assert.ok(reads <= 80, `${reads} reads`);
    assert.ok(gaps.slice(0, 8).every((g) => g < 2000), "the first seconds are read every second or so");
  });
});
