import assert from "node:assert/strict";
import { parseFaultSpec, startEmulator } from "../../emulator/index";
import { actionBody, emulatorSuite, clusterPath, latest, listJobs, newJobBody, request, runJob, runToEnd, uniqueName, V2024 } from "./helpers";

describe("emulator: fault injection", () => {
  const suite = emulatorSuite();

  it("N× 429 with Retry-After on a route, then normal answers; remaining() counts down", async () => {
    const h = suite.em.faults.add({ route: "jobs", kind: "status", status: 429, retryAfterSec: 7, times: 2 });
    const a = await listJobs(suite.em, suite.token);
    assert.equal(a.status, 429);
    assert.equal(a.headers["retry-after"], "7");
    assert.equal(a.json.error.code, "TooManyRequests");
    assert.equal(h.remaining(), 1);
    assert.equal((await listJobs(suite.em, suite.token)).status, 429);
    assert.equal(h.remaining(), 0);
    assert.equal((await listJobs(suite.em, suite.token)).status, 200);
    assert.deepEqual(suite.em.log.entries({ route: "jobs" }).slice(-3).map((e) => [e.status, e.fault]), [[429, "status 429"], [429, "status 429"], [200, undefined]]);
  });

  for (const status of [500, 502, 503, 504]) {
    it(`${status} with an ARM error body on runJob; the action does not happen`, async () => {
      const name = uniqueName();
      suite.em.faults.add({ route: "runJob", kind: "status", status, times: 1 });
      const r = await runJob(suite.em, suite.token, newJobBody(suite.em, name));
      assert.equal(r.status, status);
      assert.equal(typeof r.json.error.code, "string");
      suite.em.clock.advance(60_000);
      assert.equal(await latest(suite.em, suite.token, name), undefined);
    });
  }

  it("route 'arm' matches every ARM route; '*' every route; filters by jobName/action", async () => {
    suite.em.faults.add({ route: "arm", kind: "status", status: 503, times: 1 });
    assert.equal((await request(suite.em, "GET", `/subscriptions/${suite.em.subscriptionId}/resourcegroups?api-version=2021-04-01`, { token: suite.token })).status, 503);
    suite.em.faults.add({ route: "runJob", kind: "status", status: 500, action: "STOP" });
    const name = uniqueName();
    assert.equal((await runJob(suite.em, suite.token, newJobBody(suite.em, name))).status, 202, "NEW is not filtered in");
    suite.em.clock.advance(60_000);
    assert.equal((await runJob(suite.em, suite.token, actionBody(name, "STOP"))).status, 500);
    suite.em.faults.clear();
    suite.em.faults.add({ route: "*", kind: "status", status: 503, times: 1 });
    assert.equal((await request(suite.em, "GET", `/${suite.em.tenantId}/v2.0/.well-known/openid-configuration`)).status, 503);
  });

  it("dropAfter on runJob: the client gets a socket hang-up but the action really happens", async () => {
    const name = uniqueName();
    suite.em.faults.add({ route: "runJob", kind: "dropAfter", action: "NEW", times: 1 });
    await assert.rejects(runJob(suite.em, suite.token, newJobBody(suite.em, name)), /socket hang up|ECONNRESET/);
    suite.em.clock.advance(60_000);
    const p = (await latest(suite.em, suite.token, name)).properties;
    assert.equal(p.status, "RUNNING");
    assert.equal(suite.em.log.entries({ route: "runJob" }).at(-1)!.status, 0);
  });

  it("drop on runJob: the client gets a socket hang-up and nothing happens", async () => {
    const name = uniqueName();
    suite.em.faults.add({ route: "runJob", kind: "drop", times: 1 });
    await assert.rejects(runJob(suite.em, suite.token, newJobBody(suite.em, name)), /socket hang up|ECONNRESET/);
    suite.em.clock.advance(60_000);
    assert.equal(await latest(suite.em, suite.token, name), undefined);
  });

  it("delay: the answer comes delayMs later", async () => {
    suite.em.faults.add({ route: "jobs", kind: "delay", delayMs: 300, times: 1 });
    const t0 = Date.now();
    assert.equal((await listJobs(suite.em, suite.token)).status, 200);
    assert.ok(Date.now() - t0 >= 290);
    assert.match(suite.em.log.entries({ route: "jobs" }).at(-1)!.fault ?? "", /delay 300ms/);
  });

  it("neverFinish: the action stays IN_PROGRESS forever", async () => {
    const name = uniqueName();
    suite.em.faults.add({ route: "runJob", kind: "neverFinish", jobName: name, times: 1 });
    await runJob(suite.em, suite.token, newJobBody(suite.em, name));
    suite.em.clock.advance(24 * 3600 * 1000);
    assert.equal((await latest(suite.em, suite.token, name)).properties.actionResult, "IN_PROGRESS");
  });

  it("actionFail: the action ends FAILED with the given jobOutput and status", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    suite.em.faults.add({ kind: "actionFail", action: "STOP", jobOutput: "Savepoint failed: timeout", jobStatus: "STOP-FAILED", times: 1 });
    const p = (await runToEnd(suite.em, suite.token, actionBody(name, "STOP"))).properties;
    assert.deepEqual([p.actionResult, p.status, p.jobOutput], ["FAILED", "STOP-FAILED", "Savepoint failed: timeout"]);
    assert.equal(p.lastSavePoint, undefined);
  });

  it("actionFail with keepSavepoint: a stop that failed after writing its savepoint still reports it", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    suite.em.faults.add({ kind: "actionFail", action: "STOP", jobOutput: "Cancel failed after savepoint", keepSavepoint: true, times: 1 });
    const p = (await runToEnd(suite.em, suite.token, actionBody(name, "STOP"))).properties;
    assert.equal(p.actionResult, "FAILED");
    assert.equal(p.status, "RUNNING");
    assert.match(p.lastSavePoint, /savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/);
  });

  it("crash: some time after NEW succeeds the job's status becomes FAILED", async () => {
    const name = uniqueName();
    suite.em.faults.add({ kind: "crash", action: "NEW", jobName: name, afterMs: 30_000, times: 1 });
    await runJob(suite.em, suite.token, newJobBody(suite.em, name));
    suite.em.clock.advance(14_000 + 1_000);
    let p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.status, p.actionResult], ["RUNNING", "SUCCESS"]);
    suite.em.clock.advance(30_000);
    p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.status, p.actionResult, p.action], ["FAILED", "SUCCESS", "NEW"]);
  });

  it("forbidden: 403 AuthorizationFailed naming runjob/action and the caller's object id", async () => {
    suite.em.faults.add({ route: "runJob", kind: "forbidden", times: 1 });
    const r = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, "AuthorizationFailed");
    assert.match(r.json.error.message, /Microsoft\.HDInsight\/clusterPools\/clusters\/runjob\/action/);
    assert.ok(r.json.error.message.includes(suite.em.servicePrincipal.objectId));
    suite.em.faults.add({ route: "jobs", kind: "forbidden", times: 1 });
    const l = await listJobs(suite.em, suite.token);
    assert.equal(l.status, 403);
    assert.match(l.json.error.message, /Microsoft\.HDInsight\/clusterPools\/clusters\/jobs\/read/);
  });

  it("omitJob: the list leaves a job out for N reads", async () => {
    const name = uniqueName();
    suite.em.jobs.seed({ jobName: name, status: "RUNNING" });
    suite.em.faults.add({ kind: "omitJob", jobName: name, times: 2 });
    assert.equal(await latest(suite.em, suite.token, name), undefined);
    assert.equal(await latest(suite.em, suite.token, name), undefined);
    assert.ok(await latest(suite.em, suite.token, name));
  });

  it("token endpoint outage (503, then drop), OIDC and managed identity outages", async () => {
    suite.em.faults.add({ route: "token", kind: "status", status: 503, times: 1 });
    const form = { grant_type: "client_credentials", client_id: suite.em.servicePrincipal.clientId, client_secret: suite.em.servicePrincipal.clientSecret, scope: `${suite.em.armUrl}/.default` };
    const a = await request(suite.em, "POST", `/${suite.em.tenantId}/oauth2/v2.0/token`, { form });
    assert.equal(a.status, 503);
    assert.equal(a.json.error, "server_error");
    suite.em.faults.add({ route: "token", kind: "drop", times: 1 });
    await assert.rejects(request(suite.em, "POST", `/${suite.em.tenantId}/oauth2/v2.0/token`, { form }), /socket hang up|ECONNRESET/);
    assert.equal((await request(suite.em, "POST", `/${suite.em.tenantId}/oauth2/v2.0/token`, { form })).status, 200);
    suite.em.faults.add({ route: "oidc", kind: "status", status: 500, times: 1 });
    const o = await request(suite.em, "POST", `${suite.em.workloadIdentity.oidcRequestUri}?api-version=7.1&serviceConnectionId=${suite.em.workloadIdentity.serviceConnectionId}`, { token: suite.em.workloadIdentity.systemAccessToken });
    assert.equal(o.status, 500);
    suite.em.faults.add({ route: "msi", kind: "status", status: 503, times: 1 });
    const m = await request(suite.em, "GET", `${suite.em.managedIdentity.env["IDENTITY_ENDPOINT"]}?api-version=2019-08-01&resource=${encodeURIComponent(suite.em.armUrl)}`, { headers: { "x-identity-header": suite.em.managedIdentity.env["IDENTITY_HEADER"]! } });
    assert.equal(m.status, 503);
    assert.equal(m.json.statusCode, 503);
  });

  it("operation route faults: 503 on a poll", async () => {
    const r = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    suite.em.faults.add({ route: "operation", kind: "status", status: 503, times: 1 });
    assert.equal((await request(suite.em, "GET", r.headers["location"] as string, { token: suite.token })).status, 503);
    assert.equal((await request(suite.em, "GET", r.headers["location"] as string, { token: suite.token })).status, 202);
  });

  it("faults given in the config are active from the start; bad rules are refused", async () => {
    const alt = await startEmulator({ faults: [{ route: "openid", kind: "status", status: 500, times: 1 }] });
    try {
      assert.equal((await request(alt, "GET", `/${alt.tenantId}/v2.0/.well-known/openid-configuration`)).status, 500);
    } finally {
      await alt.close();
    }
    const refused = async (body: unknown) => {
      const r = await request(suite.em, "POST", "/_emulator/faults", { body });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      return String(r.json.error);
    };
    assert.match(await refused({ route: "jobs", kind: "status" }), /status 400-599/);
    assert.match(await refused({ kind: "explode" }), /unknown fault kind 'explode'/);
    assert.match(await refused({ kind: "status", status: 500 }), /needs a route/);
    assert.deepEqual(suite.em.faults.list(), []);
  });

  describe("a rule with a key its kind does not know is refused, naming the key (a typo must not run silently with the default)", () => {
    it("in code: the compiler refuses it, and so does the emulator at run time", () => {
      // @ts-expect-error retryAfter is a typo for retryAfterSec: the FaultRule type must reject it.
      const typo: Parameters<typeof suite.em.faults.add>[0] = { route: "arm", kind: "status", status: 429, retryAfter: 5 };
      assert.throws(() => suite.em.faults.add(typo), /fault kind 'status' does not know the key 'retryAfter'; it takes .*retryAfterSec/);
      // @ts-expect-error delayMs belongs to kind 'delay', not 'drop'.
      const misplaced: Parameters<typeof suite.em.faults.add>[0] = { route: "runJob", kind: "drop", delayMs: 100 };
      assert.throws(() => suite.em.faults.add(misplaced), /fault kind 'drop' does not know the key 'delayMs'/);
      assert.deepEqual(suite.em.faults.list(), []);
    });

    it("on the command line (--fault)", () => {
      assert.throws(() => parseFaultSpec("route=runJob,kind=status,status=429,retryafterSec=2"), /does not know the key 'retryafterSec'/);
      assert.throws(() => parseFaultSpec("route=jobs,kind=omitJob,jobname=x,job=y"), /does not know the keys 'jobname', 'job'/);
    });

    it("through the control API, all or nothing", async () => {
      const r = await request(suite.em, "POST", "/_emulator/faults", {
        body: [
          { route: "jobs", kind: "status", status: 503 },
          { route: "runJob", kind: "actionFail", jobOutput: "x", keepSavePoint: true },
        ],
      });
      assert.equal(r.status, 400);
      assert.match(r.json.error, /^rule 2: fault kind 'actionFail' does not know the key 'keepSavePoint'/);
      assert.deepEqual(suite.em.faults.list(), [], "the valid first rule was not left active");
    });
  });

  it("CLI fault syntax: key=value pairs", () => {
    assert.deepEqual(parseFaultSpec("route=runJob,kind=status,status=429,retryAfterSec=2,times=3"), { route: "runJob", kind: "status", status: 429, retryAfterSec: 2, times: 3 });
    assert.deepEqual(parseFaultSpec("route=runJob,kind=actionFail,action=STOP,jobOutput=a\\nb,keepSavepoint=true"), { route: "runJob", kind: "actionFail", action: "STOP", jobOutput: "a\nb", keepSavepoint: true });
    assert.throws(() => parseFaultSpec("route=runJob,kind"), /key=value/);
  });

  it("the request log records method, route, path, query, headers, parsed body, status and duration", async () => {
    suite.em.log.clear();
    const name = uniqueName();
    await runJob(suite.em, suite.token, newJobBody(suite.em, name), V2024);
    const [e] = suite.em.log.entries({ route: "runJob", method: "POST" });
    assert.ok(e);
    assert.equal(e.path, `${clusterPath(suite.em)}/runJob`);
    assert.equal(e.query["api-version"], V2024);
    assert.equal((e.body as any).properties.jobName, name);
    assert.equal(e.status, 202);
    assert.ok(e.headers["authorization"]?.startsWith("Bearer "));
    assert.ok(e.durationMs >= 0);
    assert.ok(e.seq > 0 && e.time > 0);
    assert.equal(suite.em.log.entries({ since: e.seq }).length, 0);
  });
});
