import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { startEmulator, type Emulator } from "../../emulator/index";
import { armToken, latest, listJobs, newJobBody, request, runJob, uniqueName } from "./helpers";

describe("emulator: control API and CLI", () => {
  let em: Emulator;
  before(async () => {
    em = await startEmulator();
  });
  after(() => em.close());

  it("control API: info, faults, jars, jobs, log, clock", async () => {
    const info = await request(em, "GET", "/_emulator/info");
    assert.equal(info.status, 200);
    assert.equal(info.json.tenantId, em.tenantId);
    assert.equal(info.json.workloadIdentity.oidcRequestUri, em.workloadIdentity.oidcRequestUri);

    const add = await request(em, "POST", "/_emulator/faults", { body: { route: "jobs", kind: "status", status: 503, times: 1 } });
    assert.equal(add.status, 201);
    assert.equal((await request(em, "GET", "/_emulator/faults")).json.length, 1);
    const token = await armToken(em);
    assert.equal((await listJobs(em, token)).status, 503);
    assert.equal((await request(em, "POST", "/_emulator/faults", { body: { kind: "bogus" } })).status, 400);
    await request(em, "POST", "/_emulator/faults", { body: [{ route: "jobs", kind: "status", status: 500 }] });
    assert.equal((await request(em, "DELETE", "/_emulator/faults")).status, 204);
    assert.equal((await listJobs(em, token)).status, 200);

    const jar = await request(em, "POST", "/_emulator/jars", { body: { jobJarDirectory: "abfs://c@a.dfs.core.windows.net/j", jarName: "x.jar" } });
    assert.equal(jar.status, 201);
    const name = uniqueName();
    await runJob(em, token, newJobBody(em, name, { jobJarDirectory: "abfs://c@a.dfs.core.windows.net/j", jarName: "x.jar" }));
    const adv = await request(em, "POST", "/_emulator/clock/advance", { body: { ms: 60_000 } });
    assert.equal(adv.status, 200);
    assert.equal((await latest(em, token, name)).properties.status, "RUNNING");
    const jobs = await request(em, "GET", "/_emulator/jobs");
    assert.ok(jobs.json.some((j: any) => j.properties.jobName === name));
    const seeded = await request(em, "POST", "/_emulator/jobs", { body: { jobName: uniqueName("seed"), status: "STOPPED" } });
    assert.equal(seeded.status, 201);
    assert.equal(seeded.json.properties.status, "STOPPED");

    const log = await request(em, "GET", "/_emulator/log?route=runJob");
    assert.ok(log.json.length >= 1);
    assert.ok(log.json.every((e: any) => e.route === "runJob"));
    assert.equal((await request(em, "DELETE", "/_emulator/log")).status, 204);
    assert.equal(em.log.entries({ route: "runJob" }).length, 0);
  });

  it("CLI: prints the URL, CA path, NODE_EXTRA_CA_CERTS line and service-connection values; applies --fault and --jar; stops on SIGTERM", async function () {
    this.timeout(30_000);
    const cli = path.resolve(__dirname, "../../emulator/cli.ts");
    const tsx = path.resolve(__dirname, "../../node_modules/.bin/tsx");
    const child = spawn(tsx, [cli, "--port", "0", "--time-scale", "5", "--fault", "route=jobs,kind=status,status=429,retryAfterSec=3,times=1", "--jar", "abfs://c@a.dfs.core.windows.net/d/app.jar"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!out.includes("Ctrl+C") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      assert.ok(url, out);
      assert.match(out, /export NODE_EXTRA_CA_CERTS=.*ca\.pem/);
      for (const needle of [em.tenantId, em.subscriptionId, em.servicePrincipal.clientId, em.servicePrincipal.clientSecret, em.workloadIdentity.serviceConnectionId, "IDENTITY_ENDPOINT=", em.resourceGroup, em.knownJar.jarName, "oidctoken"])
        assert.ok(out.includes(needle), `missing ${needle}`);
      // The same state dir: the same identities; talk to it over HTTPS.
      const remote = { ...em, url, armUrl: url } as Emulator;
      const token = await armToken(remote);
      const r = await listJobs(remote, token);
      assert.equal(r.status, 429);
      assert.equal(r.headers["retry-after"], "3");
      const jars = await request(remote, "GET", "/_emulator/jars");
      assert.ok(jars.json.includes("abfs://c@a.dfs.core.windows.net/d/app.jar"));
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});
