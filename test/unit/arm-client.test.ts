import assert from "node:assert/strict";
import nock from "nock";
import { ArmClient, boundedWait, retryAfterMs, SERVER_WAIT_BOUNDS, UntrustedUrlError } from "../../src/azure/arm-client";
import { AmbiguousRequestError, ArmError, ConnectionError, RequestRefusedError } from "../../src/errors";
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

  it("does not retry a gateway's 502 on a POST: the action may have been accepted", async () => {
    const scope = nock(base).post("/run").reply(502, { error: { code: "BadGateway", message: "upstream" } });
    await assert.rejects(client().request({ method: "POST", url: "/run", body: {}, idempotent: false }), AmbiguousRequestError);
    assert.ok(scope.isDone());
  });

  for (const status of [429, 503]) {
    it(`an answered ${status} to a POST is a refusal for the caller to judge, with the bounded Retry-After; never re-sent here`, async () => {
      const scope = nock(base).post("/run").reply(status, { error: { code: "Busy", message: "later" } }, { "Retry-After": "999999" });
      await assert.rejects(client().request({ method: "POST", url: "/run", body: {}, idempotent: false }), (e: unknown) => {
        assert.ok(e instanceof RequestRefusedError, String(e));
        assert.equal(e.refusal.status, status);
        assert.equal(e.retryAfterMs, SERVER_WAIT_BOUNDS.maxMs);
        return true;
      });
      assert.ok(scope.isDone());
    });
  }

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

  it("a network error on the POST is ambiguous: reported as such, never sent again", async () => {
    nock(base).post("/run").replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const second = nock(base).post("/run").reply(202, "null");
    await assert.rejects(client().request({ method: "POST", url: "/run", body: { properties: { action: "NEW" } }, idempotent: false }), (e: unknown) => {
      assert.ok(e instanceof AmbiguousRequestError, String(e));
      assert.match(e.message, /The connection failed during POST \/run \(.*socket hang up\); the service may have received the request/);
      return true;
    });
    assert.equal(second.isDone(), false, "a POST that may have been accepted is not repeated by the client");
  });

  it("a network error on a read is retried", async () => {
    nock(base).get("/x").replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    nock(base).get("/x").reply(200, { ok: true });
    assert.deepEqual((await client().request({ method: "GET", url: "/x", idempotent: true })).data, { ok: true });
  });

  it("Retry-After: 999999999 is cut to the longest wait honoured, not overflowed into a 1 ms retry loop", async () => {
    nock(base).get("/x").times(3).reply(429, { error: { code: "TooManyRequests", message: "later" } }, { "Retry-After": "999999999" });
    nock(base).get("/x").reply(200, { ok: true });
    const started = Date.now();
    const response = await client({ maxRetryAfterMs: 300 }).request({ method: "GET", url: "/x", idempotent: true });
    assert.deepEqual(response.data, { ok: true });
    assert.ok(Date.now() - started >= 3 * 300 - 10, `three retries after ${Date.now() - started} ms: the server's wait was not honoured up to the bound`);
  });

  it("bounds a server-given wait: negative, huge, infinite and not-a-number values", () => {
    assert.equal(boundedWait(-5, 0, 60_000), 0);
    assert.equal(boundedWait(999_999_999_000, 0, 60_000), 60_000);
    assert.equal(boundedWait(Infinity, 1000, 60_000), 60_000);
    assert.equal(boundedWait(NaN, 1000, 60_000), 1000);
    assert.equal(boundedWait(2500, 1000, 60_000), 2500);
    assert.equal(retryAfterMs({ "retry-after": "999999999" }), 999_999_999_000, "parsed as asked; bounded where it is used");
  });

  describe("the bearer token goes only to the Resource Manager host, over https", () => {
    const watching = () => {
      const calls: string[] = [];
      const credentialSpy = { getToken: async () => (calls.push("token"), { token: "tkn", expiresOnTimestamp: Date.now() + 3600_000 }) };
      return { calls, c: client({ credential: credentialSpy }) };
    };

    for (const [what, url] of [
      ["an http:// URL on the Resource Manager host", "http://arm.test/subscriptions/s/jobs?api-version=1"],
      ["an https:// URL on another host", "https://elsewhere.test/subscriptions/s/jobs?api-version=1"],
      ["the Resource Manager host with another port", "https://arm.test:8443/x"],
      ["a look-alike host", "https://arm.test.evil.test/x"],
    ] as const) {
      it(`refuses ${what} before asking for a token or sending anything`, async () => {
        const { calls, c } = watching();
        const other = nock(/.*/).get(/.*/).reply(200, {});
        await assert.rejects(c.request({ method: "GET", url, idempotent: true }), (e: unknown) => {
          assert.ok(e instanceof UntrustedUrlError, String(e));
          assert.match(e.message, /^Not sending the access token to /);
          assert.ok(e.message.includes(new URL(url).host), e.message);
          return true;
        });
        assert.deepEqual(calls, []);
        assert.equal(other.isDone(), false, "nothing was sent");
      });
    }

    it("sends it to the Resource Manager host, whatever the case of the host name", async () => {
      nock(base).get("/x").matchHeader("authorization", "Bearer tkn").reply(200, { ok: true });
      assert.equal((await client().request({ method: "GET", url: "https://ARM.test/x", idempotent: true })).status, 200);
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
