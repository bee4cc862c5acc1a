/**
 * What the tasks survive: each test injects one fault a real cloud has, runs the bundled task
 * through the agent harness against the emulator, and checks what a user would see. Every
 * scenario also checks that no action was accepted twice.
 */
import assert from "node:assert/strict";
import type { TaskRun } from "../harness/agent";
import { type ConnectProxy, startConnectProxy } from "../harness/connect-proxy";
import { runOnEmulator } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";
import { assertNoCredentialsInLog } from "../harness/log-hygiene";

type Post = { properties: { action: string; jobName: string } };

describe("reliability: faults the tasks survive", function () {
  this.timeout(180_000);
  const fixture = useEmulator();
  let counter = 0;

  afterEach(function () {
    // No scenario may end with one action accepted twice.
    const accepted = new Map<string, number>();
    for (const e of fixture.emulator.log.entries({ route: "runJob", method: "POST" })) {
      if (e.status !== 202 && e.fault !== "dropAfter") continue;
      const key = `${(e.body as Post).properties.jobName}/${(e.body as Post).properties.action}`;
      accepted.set(key, (accepted.get(key) ?? 0) + 1);
    }
    for (const [key, count] of accepted) assert.ok(count <= 1 || this.currentTest?.title.includes("twice on purpose"), `${key} was accepted ${count} times`);
  });

  const run = (task: string, inputs: Record<string, string>, options = {}) => runOnEmulator(fixture.emulator, task, inputs, options);
  const ok = (r: TaskRun) => assert.equal(r.result, "Succeeded", `${r.resultMessage}\n${r.visibleLog}`);
  const posts = (action?: string) =>
    fixture.emulator.log.entries({ route: "runJob", method: "POST" }).filter((e) => !action || (e.body as Post).properties.action === action);

  function runningJob(): string {
    const jobName = `rel-${++counter}`;
    fixture.emulator.jobs.seedRunning(jobName);
    return jobName;
  }
  const submitInputs = (jobName: string) => ({
    jobName,
    jobJarDirectory: fixture.emulator.knownJar.jobJarDirectory,
    jarName: fixture.emulator.knownJar.jarName,
    entryClass: fixture.emulator.knownJar.entryClass,
  });

  describe("throttling and transient errors", () => {
    it("a 429 storm with Retry-After is honoured, never faster", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "status", route: "arm", status: 429, retryAfterSec: 1, times: 4 });
      const r = await run("FlinkJobStop", { jobName });
      ok(r);
      const all = fixture.emulator.log.entries({ route: ["runJob", "jobs", "operation"] });
      for (let i = 0; i < all.length - 1; i++) {
        if (all[i]!.status === 429) assert.ok(all[i + 1]!.wallTime - all[i]!.wallTime >= 990, `request ${i + 1} came ${all[i + 1]!.wallTime - all[i]!.wallTime} ms after a 429 asking for 1 s`);
      }
      assert.equal(fixture.emulator.log.entries({ status: 429 }).length, 4);
    });

    for (const status of [500, 502, 503, 504]) {
      it(`${status} on the job list and the operation status is retried`, async () => {
        const jobName = runningJob();
        fixture.emulator.faults.add({ kind: "status", route: "jobs", status, times: 2 });
        fixture.emulator.faults.add({ kind: "status", route: "operation", status, times: 2 });
        const r = await run("FlinkJobCancel", { jobName });
        ok(r);
        assert.equal(fixture.emulator.log.entries({ status }).length, 4);
        assert.equal(posts().length, 1);
      });
    }

    it("an answered 503 on the runJob POST is a refusal, not blindly retried: the job record is read first, then it is posted again", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "status", route: "runJob", status: 503, times: 1 });
      const r = await run("FlinkJobCancel", { jobName });
      ok(r);
      assert.equal(posts("CANCEL").length, 2);
      const [first, second] = posts("CANCEL");
      const readsBetween = fixture.emulator.log.entries({ route: "jobs" }).filter((e) => e.seq > first!.seq && e.seq < second!.seq);
      assert.ok(readsBetween.length >= 2, "the job record must be read before posting again");
      assert.match(r.visibleLog, /The cluster refused CANCEL: .*503.*Reading every record of job/);
    });
  });

  describe("ambiguous submissions", () => {
    it("runJob's connection dropped after the cluster accepted it: found in the job record, not posted again", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "dropAfter", route: "runJob", times: 1 });
      const r = await run("FlinkJobStop", { jobName });
      ok(r);
      assert.equal(posts("STOP").length, 1);
      assert.equal(r.outputs["jobStatus"], "STOPPED");
      assert.match(r.visibleLog, /shows that STOP was accepted; not posting it again/);
    });

    it("a NEW whose connection dropped after acceptance creates exactly one record", async () => {
      fixture.emulator.faults.add({ kind: "dropAfter", route: "runJob", times: 1 });
      const r = await run("FlinkJobSubmit", submitInputs("dropped-new"));
      ok(r);
      assert.equal(fixture.emulator.jobs.list().filter((j) => j.properties.jobName === "dropped-new").length, 1);
      assert.equal(posts("NEW").length, 1);
    });

    it("runJob's connection dropped before acceptance: posted again after the record shows nothing", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "drop", route: "runJob", times: 1 });
      const r = await run("FlinkJobCancel", { jobName });
      ok(r);
      assert.equal(posts("CANCEL").length, 2);
      assert.equal(r.outputs["jobStatus"], "CANCELED");
    });

    it("the operation-status URL failing for good: the job record still gives the result", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "status", route: "operation", status: 500 });
      const r = await run("FlinkJobCancel", { jobName });
      ok(r);
      assert.match(r.visibleLog, /Could not follow the operation status/);
      assert.equal(r.outputs["jobStatus"], "CANCELED");
    });
  });

  describe("authorization", () => {
    it("a 403 says what the service said: the permission the identity lacks, with the request id", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "forbidden", route: "runJob" });
      const r = await run("FlinkJobCancel", { jobName });
      assert.equal(r.result, "Failed");
      const refused = fixture.emulator.log.entries({ route: "runJob", status: 403 })[0]!;
      assert.match(r.resultMessage ?? "", /^Azure Resource Manager returned 403 AuthorizationFailed: .*Microsoft\.HDInsight\/clusterPools\/clusters\/runjob\/action/);
      assert.ok(r.resultMessage!.includes(`request id ${refused.requestId}`));
      assert.equal(posts().length, 1, "a 403 is final: not retried");
    });
  });

  describe("identity", () => {
    it("the token endpoint failing twice is absorbed", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "status", route: "token", status: 503, times: 2 });
      ok(await run("FlinkJobStatus", { jobName }));
      assert.equal(fixture.emulator.log.entries({ route: "token", status: 503 }).length, 2);
    });

    it("a slow token endpoint (3 s) is waited for", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "delay", route: "token", delayMs: 3000, times: 1 });
      const r = await run("FlinkJobStatus", { jobName });
      ok(r);
      assert.ok(r.durationMs >= 3000);
    });

    it("the token endpoint down: the step fails saying the connection could not get a token, without calling ARM", async () => {
      fixture.emulator.faults.add({ kind: "status", route: "token", status: 503 });
      const r = await run("FlinkJobStatus", { jobName: "any" });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Could not get an access token/);
      assert.equal(fixture.emulator.log.entries({ route: ["jobs", "runJob"] }).length, 0);
    });
  });

  describe("the job record", () => {
    it("the job briefly missing from the list does not fail or end the wait", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "omitJob", jobName, times: 2 });
      const r = await run("FlinkSavepoint", { jobName });
      ok(r);
      assert.match(r.outputs["savepointPath"] ?? "", /savepoint-25e318-/);
    });

    it("a job that fails after START: the start succeeds, waiting for RUNNING to last reports the failure", async () => {
      const jobName = runningJob();
      ok(await run("FlinkJobStop", { jobName }));
      fixture.emulator.faults.add({ kind: "crash", action: "START", jobName, afterMs: 1000 });
      ok(await run("FlinkJobStart", { jobName }));
      const status = await run("FlinkJobStatus", { jobName, waitForStatus: "STOPPED" });
      assert.equal(status.result, "Failed");
      assert.match(status.resultMessage ?? "", /reached the failure status FAILED/);
    });

    it("an action that never finishes: a timeout message, no false FAILED, outputs not claiming a result", async () => {
      const jobName = runningJob();
      fixture.emulator.faults.add({ kind: "neverFinish", action: "SAVEPOINT", jobName });
      const r = await run("FlinkSavepoint", { jobName, waitTimeoutInMinutes: "1", pollingIntervalInSeconds: "5" }, { timeoutMs: 120_000 });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", /Timed out after 1 minute .*The action may still complete on the cluster; last seen: action SAVEPOINT, actionResult IN_PROGRESS/);
      assert.doesNotMatch(r.resultMessage ?? "", /ended FAILED/);
      assert.equal(r.outputs["actionResult"], undefined);
    });
  });

  describe("cancellation", () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`${signal} during the wait ends the step promptly, saying the action may continue`, async () => {
        const jobName = runningJob();
        fixture.emulator.faults.add({ kind: "neverFinish", action: "CANCEL", jobName });
        const r = await run("FlinkJobCancel", { jobName }, { signal: { name: signal, afterMs: 3000 } });
        assert.equal(r.result, "Failed");
        assert.match(r.resultMessage ?? "", /The pipeline was cancelled while waiting for CANCEL .*The action may continue on the cluster/);
        assert.equal(r.exitCode, 0, "the process ends on its own, with no stray timers holding it");
        assert.ok(r.durationMs < 4500, `took ${r.durationMs} ms`);
      });
    }
  });

  describe("the agent's network settings", () => {
    /** Requests the emulator saw, split by whether a tunnel of `proxy` carried them. */
    const throughProxy = (proxy: ConnectProxy) => {
      const all = fixture.emulator.log.entries();
      return { all, tunnelled: all.filter((e) => proxy.upstreamPorts.has(e.remotePort)), direct: all.filter((e) => !proxy.upstreamPorts.has(e.remotePort)) };
    };

    it("sends every request, token requests included, through the agent's proxy (CONNECT)", async () => {
      const jobName = runningJob();
      const proxy = await startConnectProxy({ requireAuth: `Basic ${Buffer.from("agent:proxy-pass-1234567890").toString("base64")}` });
      try {
        const host = new URL(fixture.emulator.url).host;
        const r = await run("FlinkJobCancel", { jobName }, {
          env: { AGENT_PROXYURL: proxy.url, AGENT_PROXYUSERNAME: "agent", SECRET_AGENT_PROXYPASSWORD: "proxy-pass-1234567890" },
        });
        ok(r);
        assert.ok(proxy.tunnels.length >= 2, `only ${proxy.tunnels.length} tunnels`);
        assert.ok(proxy.tunnels.every((t) => t === host));
        // Every request the emulator saw in this run came through one of the proxy's tunnels.
        const seen = throughProxy(proxy);
        for (const route of ["token", "jobs", "runJob", "operation"]) assert.ok(seen.all.some((e) => e.route === route), `no ${route} request`);
        assert.deepEqual(seen.direct.map((e) => `${e.method} ${e.route}`), [], "requests that bypassed the proxy");
        // task-lib itself prints "Agent.ProxyPassword=<value>" as a debug line when it loads; the
        // agent masks that value as one of its own secret variables. Nothing else may show it.
        const ours = r.visibleLog.split("\n").filter((line) => !line.startsWith("Agent.ProxyPassword="));
        assert.ok(!ours.some((line) => line.includes("proxy-pass-1234567890")), "the proxy password leaked");
        assert.ok(proxy.authorizations.every((a) => a === `Basic ${Buffer.from("agent:proxy-pass-1234567890").toString("base64")}`));
      } finally {
        await proxy.close();
      }
    });

    it("with workload identity federation, the OIDC request goes through the proxy too", async () => {
      const jobName = runningJob();
      const proxy = await startConnectProxy();
      try {
        const r = await runOnEmulator(fixture.emulator, "FlinkJobStatus", { jobName }, { scheme: "workloadIdentity", env: { AGENT_PROXYURL: proxy.url } });
        ok(r);
        const seen = throughProxy(proxy);
        const oidc = seen.all.filter((e) => e.route === "oidc");
        assert.ok(oidc.length >= 1, "no OIDC request");
        assert.ok(oidc.every((e) => proxy.upstreamPorts.has(e.remotePort)), "the OIDC request itself came through the proxy's tunnel");
        assert.deepEqual(seen.direct.map((e) => `${e.method} ${e.route}`), [], "requests that bypassed the proxy");
      } finally {
        await proxy.close();
      }
    });

    it("the OIDC request follows its own host's bypass decision, not Entra ID's", async () => {
      const jobName = runningJob();
      const proxy = await startConnectProxy();
      try {
        // The same emulator under another name: the agent's bypass list covers only that name.
        const oidcRequestUri = fixture.emulator.workloadIdentity.oidcRequestUri.replace("127.0.0.1", "localhost");
        const r = await runOnEmulator(fixture.emulator, "FlinkJobStatus", { jobName }, {
          scheme: "workloadIdentity",
          variables: { "System.OidcRequestUri": oidcRequestUri },
          env: { AGENT_PROXYURL: proxy.url, AGENT_PROXYBYPASSLIST: JSON.stringify(["localhost"]) },
        });
        ok(r);
        const seen = throughProxy(proxy);
        assert.ok(seen.direct.length >= 1, "no request went direct");
        assert.deepEqual([...new Set(seen.direct.map((e) => e.route))], ["oidc"], "only the bypassed OIDC requests went direct");
        assert.ok(!seen.tunnelled.some((e) => e.route === "oidc"), "no OIDC request through the proxy");
        assert.ok(seen.tunnelled.some((e) => e.route === "token"), "Entra ID through the proxy");
        assert.ok(seen.tunnelled.some((e) => e.route === "jobs"), "Resource Manager through the proxy");
      } finally {
        await proxy.close();
      }
    });

    const certificateFailure = /self[- ]signed certificate|unable to (get local issuer|verify the first) certificate/i;

    it("trusts the agent's CA certificate (Agent.CAInfo) without NODE_EXTRA_CA_CERTS, and fails the TLS check without it", async () => {
      const jobName = runningJob();
      const trusted = await runOnEmulator(fixture.emulator, "FlinkJobStatus", { jobName }, { env: { NODE_EXTRA_CA_CERTS: "", AGENT_CAINFO: fixture.emulator.caCertPath } });
      ok(trusted);
      assert.equal(trusted.outputs["jobStatus"], "RUNNING", "the job was read over TLS");
      assert.ok(fixture.emulator.log.entries({ route: "jobs", status: 200 }).length >= 1);
      fixture.emulator.log.clear();
      const untrusted = await runOnEmulator(fixture.emulator, "FlinkJobStatus", { jobName }, { env: { NODE_EXTRA_CA_CERTS: "" } });
      assert.equal(untrusted.result, "Failed");
      assert.match(untrusted.resultMessage ?? "", certificateFailure);
      assert.deepEqual(fixture.emulator.log.entries(), [], "no request completed a TLS handshake");
    });

    it("without the CA, the TLS failure is reported (the emulator is not trusted by default)", async () => {
      const r = await runOnEmulator(fixture.emulator, "FlinkJobStatus", { jobName: "any" }, { env: { NODE_EXTRA_CA_CERTS: "" } });
      assert.equal(r.result, "Failed");
      assert.match(r.resultMessage ?? "", certificateFailure, "the certificate error itself, not only 'Could not get an access token'");
    });
  });

  describe("log hygiene", () => {
    it("with system.debug on, no secret, access token or OIDC token reaches the log, for every connection scheme", async () => {
      for (const scheme of ["spnKey", "spnCertificate", "workloadIdentity", "managedIdentity"] as const) {
        const jobName = runningJob();
        const r = await runOnEmulator(fixture.emulator, "FlinkSavepoint", { jobName }, { scheme, debug: true });
        ok(r);
        assert.ok(r.stdout.includes("##vso[task.debug]"), "debug output was on");
        assertNoCredentialsInLog(r, fixture.emulator);
      }
    });

    it("service text carrying ##vso[ never becomes a command", async () => {
      const jobName = runningJob();
      const evil = "bad\n##vso[task.setvariable variable=pwned;isOutput=true]yes\n##vso[task.complete result=Succeeded;]ok";
      fixture.emulator.faults.add({ kind: "actionFail", action: "CANCEL", jobName, jobOutput: evil });
      const r = await run("FlinkJobCancel", { jobName });
      assert.equal(r.result, "Failed");
      assert.equal(r.outputs["pwned"], undefined);
      assert.deepEqual(
        r.commands.filter((c) => c.command === "task.complete").map((c) => c.properties["result"]),
        ["Failed"],
      );
      assert.equal(r.outputs["jobOutput"], evil, "the output variable carries the text intact");
      const setVariables = r.commands.filter((c) => c.command === "task.setvariable").map((c) => c.properties["variable"]);
      const allowed = ["jobName", "runId", "jobId", "jobStatus", "actionResult", "jobOutput", "lastSavepoint"];
      assert.ok(setVariables.every((v) => allowed.includes(v!)), `unexpected variables: ${setVariables}`);
    });
  });

  describe("workload identity over a long wait", () => {
    // Tokens that live 6 s (60 s of emulator time at ten times the speed) and an action of 20 s.
    const longWait = useEmulator({ timeScale: 10, accessTokenLifetimeSec: 60, oidcTokenLifetimeSec: 60, actionDurationMs: { SAVEPOINT: 200_000 } });

    it("fetches a fresh OIDC token whenever a new ARM token is needed, and no request is refused", async () => {
      const emulator = longWait.emulator;
      emulator.jobs.seedRunning("long-wait");
      const started = Date.now();
      const r = await runOnEmulator(emulator, "FlinkSavepoint", { jobName: "long-wait" }, { scheme: "workloadIdentity", debug: true });
      ok(r);
      assert.ok(Date.now() - started > 15_000, "the wait outlived several token lifetimes");
      const oidc = emulator.log.entries({ route: "oidc" });
      assert.ok(oidc.length >= 3, `only ${oidc.length} OIDC tokens were fetched`);
      assert.ok(oidc[oidc.length - 1]!.wallTime - oidc[0]!.wallTime > 6_000, "the OIDC tokens span more than one lifetime");
      assert.deepEqual(emulator.log.entries({ route: ["jobs", "runJob", "operation"] }).filter((e) => e.status === 401), []);
      assertNoCredentialsInLog(r, emulator);
    });
  });
});
