import assert from "node:assert/strict";
import { emulatorSuite, clusterPath, jobsNamed, latest, listJobs, newJobBody, actionBody, request, runJob, runToEnd, uniqueName, V2024 } from "./helpers";

describe("emulator: ARM job API facts from the reference", () => {
  const suite = emulatorSuite();

  it("REAL: runJob answers 202 with body null and identical Location/Azure-AsyncOperation", async () => {
    const r = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    assert.equal(r.status, 202);
    assert.equal(r.text, "null");
    const loc = r.headers["location"] as string;
    assert.ok(loc);
    assert.equal(r.headers["azure-asyncoperation"], loc);
    assert.equal(r.headers["retry-after"], undefined, "REAL: no Retry-After");
    const m = /^https:\/\/127\.0\.0\.1:\d+\/providers\/Microsoft\.HDInsight\/locations\/WESTUS2\/operationStatuses\/([0-9a-f-]{36})\*([0-9A-F]{64})\?api-version=2024-05-01-preview&t=\d+&c=[^&]+&s=[^&]+&h=[^&]+$/.exec(loc);
    assert.ok(m, loc);
    assert.equal(r.headers["x-ms-request-id"], m[1], "REAL: x-ms-request-id equals the operation guid");
  });

  it("REAL: the operation answers 202 Accepted with fresh headers, then 200 Succeeded with jobStatus SUBMITTED", async () => {
    const r = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    const loc = r.headers["location"] as string;
    const p1 = await request(suite.em, "GET", loc, { token: suite.token });
    assert.equal(p1.status, 202);
    assert.deepEqual(Object.keys(p1.json).sort(), ["id", "name", "resourceId", "startTime", "status"]);
    assert.equal(p1.json.status, "Accepted");
    assert.equal(p1.json.resourceId, clusterPath(suite.em));
    assert.ok(p1.headers["location"]);
    assert.equal(p1.headers["location"], p1.headers["azure-asyncoperation"]);
    assert.notEqual(p1.headers["location"], loc, "fresh signed URL");
    suite.em.clock.advance(12_000); // REAL: the NEW's operation ends when the job is submitted, 12 s after the POST
    const p2 = await request(suite.em, "GET", p1.headers["location"] as string, { token: suite.token });
    assert.equal(p2.status, 200);
    assert.equal(p2.json.status, "Succeeded");
    assert.deepEqual(p2.json.properties, { jobStatus: "SUBMITTED" });
    assert.ok(p2.json.endTime);
    assert.equal(p2.json.name, p1.json.name);
    // The original URL stays valid.
    assert.equal((await request(suite.em, "GET", loc, { token: suite.token })).status, 200);
  });

  it("REAL: a NEW that succeeds shows RUNNING, jobOutput 'Flink internal job status : RUNNING', a 32-hex jobId, id ending /jobs/{runId}", async () => {
    const name = uniqueName();
    const job = await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    assert.deepEqual(Object.keys(job), ["id", "properties"], "REAL: items carry only id and properties");
    const p = job.properties;
    assert.equal(p.status, "RUNNING");
    assert.equal(p.jobOutput, "Flink internal job status : RUNNING");
    assert.equal(p.actionResult, "SUCCESS");
    assert.equal(p.action, "NEW");
    assert.match(p.jobId, /^[0-9a-f]{32}$/);
    assert.match(p.runId, /^job-[0-9a-f]{3}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(job.id, `${clusterPath(suite.em)}/jobs/${p.runId}`);
    assert.equal(p.lastSavePoint, undefined, "REAL: read-only fields omitted when unknown");
    assert.deepEqual(Object.keys(p), ["jobType", "runId", "jobName", "jobJarDirectory", "jarName", "action", "entryClass", "args", "flinkConfiguration", "jobId", "status", "jobOutput", "actionResult"]);
  });

  it("REAL: NEW with an unknown jar ends JOB_LAUNCH_FAILED with 'Job execution failed. \\nFailed to download jar'", async () => {
    const name = uniqueName();
    const post = await runJob(suite.em, suite.token, newJobBody(suite.em, name, { jarName: "missing.jar" }));
    assert.equal(post.status, 202, "REAL: accepted first");
    suite.em.clock.advance(60_000);
    const p = (await latest(suite.em, suite.token, name)).properties;
    assert.equal(p.status, "JOB_LAUNCH_FAILED");
    assert.equal(p.actionResult, "FAILED");
    assert.equal(p.jobOutput, "Job execution failed. \nFailed to download jar");
  });

  it("REAL: several records share a jobName (each NEW creates a record)", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    const recs = await jobsNamed(suite.em, suite.token, name);
    assert.equal(recs.length, 2);
    assert.notEqual(recs[0].properties.runId, recs[1].properties.runId);
  });

  it("DOC: STOP leaves STOPPED with savepoint-<6 hex of jobId>-<12 hex> in jobOutput and lastSavePoint", async () => {
    const name = uniqueName();
    const started = await runToEnd(suite.em, suite.token, newJobBody(suite.em, name, { flinkConfiguration: { parallelism: "2", "savepoint.directory": "abfs://sp@acct.dfs.core.windows.net/sp/" } }));
    const jobId = started.properties.jobId as string;
    const p = (await runToEnd(suite.em, suite.token, actionBody(name, "STOP"))).properties;
    assert.equal(p.status, "STOPPED");
    assert.equal(p.actionResult, "SUCCESS");
    assert.equal(p.action, "STOP");
    const re = new RegExp(`^abfs://sp@acct\\.dfs\\.core\\.windows\\.net/sp/savepoint-${jobId.slice(0, 6)}-[0-9a-f]{12}$`);
    assert.match(p.lastSavePoint, re);
    assert.equal(p.jobOutput, `Savepoint completed. Path: ${p.lastSavePoint}`);
  });

  it("REAL: the REAL PowerShell request body is accepted as is", async () => {
    const body = {
      properties: {
        jobType: "FlinkJob",
        jobName: uniqueName("job1"),
        jobJarDirectory: suite.em.knownJar.jobJarDirectory,
        jarName: suite.em.knownJar.jarName,
        entryClass: "org.example.SleepJob",
        args: "",
        action: "NEW",
        flinkConfiguration: { parallelism: "1" },
      },
    };
    assert.equal((await runJob(suite.em, suite.token, body)).status, 202);
  });

  it("REAL: /runjob and upper/lower-case path segments are matched case-insensitively", async () => {
    const path = clusterPath(suite.em).replace("clusterpools", "clusterPools").replace("resourceGroups", "resourcegroups").toUpperCase().replace(suite.em.subscriptionId.toUpperCase(), suite.em.subscriptionId);
    const r = await request(suite.em, "POST", `${path}/runjob?api-version=${V2024}`, { body: newJobBody(suite.em, uniqueName()), token: suite.token });
    assert.equal(r.status, 202, r.text);
  });

  it("every response carries x-ms-request-id and echoes x-ms-client-request-id", async () => {
    const r = await request(suite.em, "GET", `${clusterPath(suite.em)}/jobs?api-version=${V2024}`, { token: suite.token, headers: { "x-ms-client-request-id": "abc-123" } });
    assert.ok(r.headers["x-ms-request-id"]);
    assert.equal(r.headers["x-ms-client-request-id"], "abc-123");
    const e = await request(suite.em, "GET", `${clusterPath(suite.em)}/jobs?api-version=${V2024}`);
    assert.equal(e.status, 401);
    assert.ok(e.headers["x-ms-request-id"]);
    const t = await request(suite.em, "GET", `/${suite.em.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.ok(t.headers["x-ms-request-id"]);
  });

  it("list returns {value:[]} with no jobs matching", async () => {
    const r = await listJobs(suite.em, suite.token, V2024, `jobName eq '${uniqueName("none")}'`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { value: [] });
  });
});
