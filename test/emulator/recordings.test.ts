/**
 * Where the emulator once differed from the recorded service, one fact per test. The recordings:
 * Azure/azure-powershell src/HdInsightOnAks/HdInsightOnAks.Autorest/test/sessionRecords/ClusterJob.Recording.json
 * (a NEW: 202 null, the operation, the RUNNING record) and Azure/azure-cli-extensions
 * src/hdinsightonaks/azext_hdinsightonaks/tests/latest/recordings/test_flink_job.yaml (three records).
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startEmulator } from "../../emulator/index";
import { armToken, emulatorSuite, jobsNamed, latest, newJobBody, request, runJob, uniqueName } from "./helpers";

/** The version-4 GUID tail every recorded runId ends in. */
const RUN_ID = /^job-[0-9a-f]{3}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("emulator: fidelity to the recorded service", () => {
  const suite = emulatorSuite();

  it("REAL: the NEW's operation stays Accepted for 12 s (startTime to endTime) and ends when the job is submitted; the record lags it by the stale window (GUESS)", async () => {
    const name = uniqueName();
    const post = await runJob(suite.em, suite.token, newJobBody(suite.em, name));
    const url = post.headers["location"] as string;
    suite.em.clock.advance(11_900);
    const running = await request(suite.em, "GET", url, { token: suite.token });
    assert.equal(running.status, 202, "11.9 s after the POST the operation is still running");
    assert.equal(running.json.status, "Accepted");
    suite.em.clock.advance(100);
    const done = await request(suite.em, "GET", url, { token: suite.token });
    assert.equal(done.status, 200);
    assert.equal(done.json.status, "Succeeded");
    assert.deepEqual(done.json.properties, { jobStatus: "SUBMITTED" });
    assert.equal(Date.parse(done.json.endTime) - Date.parse(done.json.startTime), 12_000, "recorded: 06:57:28.56 to 06:57:40.58");
    // The record lags the operation by the stale window (2 s by default): still in progress.
    assert.equal((await latest(suite.em, suite.token, name)).properties.actionResult, "IN_PROGRESS");
    suite.em.clock.advance(2_000);
    const p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.status, p.actionResult], ["RUNNING", "SUCCESS"]);
  });

  it("operationDurationMs (unset by default) ends every operation that long after its POST, for a client's test of an operation that ends early", async () => {
    const early = await startEmulator({ operationDurationMs: 1_500 });
    try {
      const token = await armToken(early);
      const post = await runJob(early, token, newJobBody(early, uniqueName()));
      early.clock.advance(1_500);
      assert.equal((await request(early, "GET", post.headers["location"] as string, { token })).json.status, "Succeeded");
    } finally {
      await early.close();
    }
  });

  it("REAL: a NEW without flinkConfiguration (so without parallelism) is accepted and listed without it", async () => {
    const name = uniqueName();
    const body = newJobBody(suite.em, name);
    delete body.properties["flinkConfiguration"];
    delete body.properties["args"];
    const post = await runJob(suite.em, suite.token, body);
    assert.equal(post.status, 202, post.text);
    suite.em.clock.advance(60_000);
    const p = (await latest(suite.em, suite.token, name)).properties;
    assert.equal(p.flinkConfiguration, undefined);
    assert.deepEqual([p.action, p.status, p.actionResult], ["NEW", "RUNNING", "SUCCESS"]);
  });

  it("REAL: runId is 'job-' and the last 26 characters of a version-4 GUID, as every recorded one", async () => {
    for (const recorded of ["job-c5d-4b48-abba-5ee598dbd653", "job-9fe-4b53-bdd3-af47318a4507", "job-d30-488a-91fd-4093b8cc0430"]) assert.match(recorded, RUN_ID);
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const name = uniqueName("runid");
      await runJob(suite.em, suite.token, newJobBody(suite.em, name));
      suite.em.clock.advance(3_000);
      ids.push(...(await jobsNamed(suite.em, suite.token, name)).map((j) => j.properties.runId as string));
    }
    assert.equal(ids.length, 16);
    for (const id of ids) assert.match(id, RUN_ID);
  });

  it("REAL: the operation URL is about 3.2 KB: c= a DER certificate, s= an RSA signature made with its key", async () => {
    const post = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    const url = new URL(post.headers["location"] as string);
    const text = url.toString();
    assert.ok(text.length >= 2_900 && text.length <= 3_600, `${text.length} characters; the recorded one has about 3 250`);
    const c = url.searchParams.get("c")!;
    const s = url.searchParams.get("s")!;
    const certificate = new crypto.X509Certificate(Buffer.from(c, "base64url"));
    assert.match(certificate.subject, /CN=asyncoperationsigningcertificate\.management\.azure\.com/);
    assert.ok(c.startsWith("MII"), "base64url of a DER SEQUENCE, as the recorded c= begins");
    assert.equal(Buffer.from(s, "base64url").length, 256, "an RSA-2048 signature, as the recorded s=");
    const signed = `${url.pathname}?api-version=${url.searchParams.get("api-version")}&t=${url.searchParams.get("t")}&c=${c}`;
    assert.ok(crypto.verify("sha256", Buffer.from(signed), certificate.publicKey, Buffer.from(s, "base64url")), "s= verifies with the certificate's key");
    assert.match(url.searchParams.get("h")!, /^[A-Za-z0-9_-]{43}$/, "h= a SHA-256 MAC, 43 characters as recorded");
    assert.equal((await request(suite.em, "GET", text, { token: suite.token })).status, 202, "the long URL works verbatim");
  });

  it("REAL (fault noResult): a record with no status, actionResult, jobOutput or jobId, as the CLI recording's NEW; the operation still succeeds", async () => {
    const name = uniqueName();
    suite.em.faults.add({ kind: "noResult", action: "NEW", jobName: name, times: 1 });
    const body = newJobBody(suite.em, name);
    delete body.properties["flinkConfiguration"];
    delete body.properties["args"];
    const post = await runJob(suite.em, suite.token, body);
    suite.em.clock.advance(1_000);
    assert.equal((await jobsNamed(suite.em, suite.token, name)).length, 0, "during the stale window there is no record yet");
    suite.em.clock.advance(600_000);
    const [record, ...more] = await jobsNamed(suite.em, suite.token, name);
    assert.equal(more.length, 0);
    assert.deepEqual(Object.keys(record.properties), ["jobType", "runId", "jobName", "jobJarDirectory", "jarName", "action", "entryClass"], "the recorded record's keys");
    assert.equal(record.properties.action, "NEW");
    assert.equal((await request(suite.em, "GET", post.headers["location"] as string, { token: suite.token })).json.status, "Succeeded");
    assert.equal(suite.em.faults.list().length, 0, "used up");
    // The next NEW of that name is normal again.
    await runJob(suite.em, suite.token, newJobBody(suite.em, name));
    suite.em.clock.advance(60_000);
    assert.deepEqual((await jobsNamed(suite.em, suite.token, name)).map((j) => j.properties.actionResult), [undefined, "SUCCESS"]);
  });
});
