/**
 * FlinkJobDeploy on HDInsight on AKS end to end: the bundled task, as the agent runs it, against
 * the emulator whose cluster reads its jars from Azurite, where the task uploads them with the
 * connection's own credential (storage scope). Run `npm run build` first.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TEST_BLOB_ENDPOINT_ENV } from "../../src/azure/jar-upload";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite, type Azurite } from "../../testbed/azurite/index";
import type { TaskRun } from "../harness/agent";
import { runOnEmulator } from "../harness/emulator-connections";
import { assertNoCredentialsInLog } from "../harness/log-hygiene";
import { blobContainer } from "../jar-upload/helpers";

const DIR = "abfss://jars@devstoreaccount1.dfs.core.windows.net/flink";
const DOWNLOAD_FAILED = "Job execution failed. \nFailed to download jar";

describe("FlinkJobDeploy on hdinsightAks end to end (bundled task, emulator reading jars from Azurite)", function () {
  this.timeout(180_000);
  let em: Emulator;
  let az: Azurite;
  let work: string;
  let names = 0;

  before(async () => {
    em = await startEmulator({ timeScale: 20 });
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
    em.storage.useBlobStorage(az.blobEndpoint);
    await blobContainer(em, az, "jars").create();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-hdi-e2e-"));
  });
  after(async () => {
    await az?.stop();
    await em?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => em.faults.clear());

  /** A build's output: target/<jar> with bytes of its own. */
  function build(jarName: string): { pattern: string; sha256: string } {
    const dir = fs.mkdtempSync(path.join(work, "build-"));
    fs.mkdirSync(path.join(dir, "target"));
    const bytes = crypto.randomBytes(50_000);
    fs.writeFileSync(path.join(dir, "target", jarName), bytes);
    return { pattern: `${path.basename(dir)}/target/*.jar`, sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
  }

  function deploy(jobName: string, jarFile: string, inputs: Record<string, string> = {}): Promise<TaskRun> {
    return runOnEmulator(
      em,
      "FlinkJobDeploy",
      { target: "hdinsightAks", jobName, jarFile, jobJarDirectory: DIR, entryClass: "org.example.Orders", healthCheckSeconds: "1", pollingIntervalInSeconds: "1", ...inputs },
      { env: { [TEST_BLOB_ENDPOINT_ENV]: az.blobEndpoint }, variables: { "System.DefaultWorkingDirectory": work } },
    );
  }

  const blob = (name: string) => blobContainer(em, az, "jars").getBlockBlobClient(`flink/${name}`);
  const record = (jobName: string) => em.jobs.list().find((r) => r.properties.jobName === jobName)!.properties;
  const ok = (r: TaskRun) => assert.equal(r.result, "Succeeded", `${r.resultMessage}\n${r.stdout}`);

  it("submits, re-runs unchanged (blob untouched), upgrades from a savepoint keeping the previous bytes", async () => {
    const jobName = `orders-${++names}`;
    const v1 = build(`${jobName}.jar`);
    const first = await deploy(jobName, v1.pattern, { args: "--window 5m" });
    ok(first);
    assert.deepEqual([first.outputs["deployAction"], first.outputs["jarPath"], first.outputs["jarSha256"], first.outputs["jobStatus"]], ["submitted", `${DIR}/${jobName}.jar`, v1.sha256, "RUNNING"]);
    const uploaded = await blob(`${jobName}.jar`).getProperties();
    assert.equal(uploaded.metadata?.["sha256"], v1.sha256);
    assertNoCredentialsInLog(first, em);

    const again = await deploy(jobName, v1.pattern, { args: "--window 5m" });
    ok(again);
    assert.equal(again.outputs["deployAction"], "unchanged");
    assert.equal((await blob(`${jobName}.jar`).getProperties()).etag, uploaded.etag, "the jar was not written again");
    assert.equal(em.log.entries({ route: "runJob", method: "POST" }).filter((e) => (e.body as { properties: { jobName: string } }).properties.jobName === jobName).length, 1);

    const v2 = build(`${jobName}-2.0.jar`);
    const before = record(jobName);
    const up = await deploy(jobName, v2.pattern, { args: "--window 5m" });
    ok(up);
    assert.equal(up.outputs["deployAction"], "upgraded");
    assert.equal(up.outputs["jarPath"], `${DIR}/${jobName}.jar`, "the new bytes go where the running job reads");
    const after = record(jobName);
    assert.deepEqual([after.action, after.status], ["UPDATE", "RUNNING"]);
    assert.notEqual(after.jobId, before.jobId);
    assert.equal(up.outputs["previousSavepoint"], after.lastSavePoint);
    assert.notEqual(after.lastSavePoint, before.lastSavePoint);
    assert.equal((await blob(`${jobName}.jar`).getProperties()).metadata?.["sha256"], v2.sha256);
    const kept = await blob(`.versions/${v1.sha256.slice(0, 16)}/${jobName}.jar`).getProperties();
    assert.equal(kept.metadata?.["sha256"], v1.sha256, "the previous version's bytes are kept");
    assert.match(up.stdout, new RegExp(`kept at ${DIR}/\\.versions/${v1.sha256.slice(0, 16)}/${jobName}\\.jar`));
  });

  it("a new version whose UPDATE fails is rolled back: previous bytes back, UPDATE from the pre-upgrade savepoint, step failed", async () => {
    const jobName = `orders-${++names}`;
    const v1 = build(`${jobName}.jar`);
    ok(await deploy(jobName, v1.pattern));
    em.faults.add({ kind: "actionFail", action: "UPDATE", jobName, times: 1, keepSavepoint: true, jobStatus: "FAILED", jobOutput: "Job execution failed. \njava.lang.NoSuchMethodError: Orders.v2" });
    const r = await deploy(jobName, build(`${jobName}.jar`).pattern);
    assert.equal(r.result, "Failed");
    assert.equal(r.outputs["deployAction"], "rolledBack");
    assert.match(r.resultMessage ?? "", /UPDATE ended FAILED: status FAILED, jobOutput 'Job execution failed\. \njava\.lang\.NoSuchMethodError: Orders\.v2'|NoSuchMethodError: Orders\.v2/);
    assert.match(r.resultMessage ?? "", /Rolled back/);
    const p = record(jobName);
    assert.deepEqual([p.action, p.actionResult, p.status], ["UPDATE", "SUCCESS", "RUNNING"]);
    const posts = em.log.entries({ route: "runJob", method: "POST" }).map((e) => (e.body as { properties: { jobName: string; action: string; savePointName?: string } }).properties).filter((b) => b.jobName === jobName);
    assert.deepEqual(posts.map((b) => b.action), ["NEW", "UPDATE", "UPDATE"]);
    assert.equal(posts[2]!.savePointName, r.outputs["previousSavepoint"]);
    assert.ok(r.outputs["previousSavepoint"]);
    assert.equal((await blob(`${jobName}.jar`).getProperties()).metadata?.["sha256"], v1.sha256, "the previous jar is back at its path");
  });

  it("an UPDATE refused while the old version keeps running: its jar goes back, the job is left alone (no STATELESS_UPDATE), the JobID named is the one that runs; the re-run upgrades", async () => {
    const jobName = `orders-${++names}`;
    const v1 = build(`${jobName}.jar`);
    ok(await deploy(jobName, v1.pattern));
    const before = record(jobName);
    // No jobStatus: the service answers FAILED and the running job goes on as it was.
    em.faults.add({ kind: "actionFail", action: "UPDATE", jobName, times: 1, jobOutput: "Job update failed: the jar could not be read" });
    const v2 = build(`${jobName}.jar`);
    const r = await deploy(jobName, v2.pattern, { rollbackOnFailure: "false" });
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /UPDATE of job '.*' ended FAILED .*the running version kept running .*: it was left alone, and its jar is back at .*The new version never ran/s);
    assert.ok((r.resultMessage ?? "").includes(`JobID ${before.jobId}`), r.resultMessage);
    const posts = () => em.log.entries({ route: "runJob", method: "POST" }).map((e) => (e.body as { properties: { jobName: string; action: string } }).properties).filter((b) => b.jobName === jobName).map((b) => b.action);
    assert.deepEqual(posts(), ["NEW", "UPDATE"], "the running job was restarted");
    assert.deepEqual([record(jobName).status, record(jobName).jobId], ["RUNNING", before.jobId]);
    assert.equal((await blob(`${jobName}.jar`).getProperties()).metadata?.["sha256"], v1.sha256, "the blob holds bytes that never ran");
    // The re-run of the same step: the new bytes never ran, so it upgrades (never 'unchanged').
    const again = await deploy(jobName, v2.pattern, { rollbackOnFailure: "false" });
    assert.equal(again.result, "Succeeded", again.resultMessage);
    assert.equal(again.outputs["deployAction"], "upgraded");
    assert.equal((await blob(`${jobName}.jar`).getProperties()).metadata?.["sha256"], v2.sha256);
  });

  it("a new version that fails after start (stateless upgrade) fails the health gate and is rolled back without state", async () => {
    const jobName = `orders-${++names}`;
    const v1 = build(`${jobName}.jar`);
    ok(await deploy(jobName, v1.pattern));
    em.faults.add({ kind: "crash", action: "STATELESS_UPDATE", jobName, times: 1, afterMs: 80_000 });
    const r = await deploy(jobName, build(`${jobName}.jar`).pattern, { upgradeMode: "stateless", healthCheckSeconds: "10" });
    assert.equal(r.result, "Failed");
    assert.equal(r.outputs["deployAction"], "rolledBack");
    assert.match(r.resultMessage ?? "", /(the job left RUNNING after \d+ s|STATELESS_UPDATE succeeded, but the job is not RUNNING): status FAILED, jobOutput 'Flink internal job status : FAILED'/);
    const posts = em.log.entries({ route: "runJob", method: "POST" }).map((e) => (e.body as { properties: { jobName: string; action: string } }).properties).filter((b) => b.jobName === jobName);
    assert.deepEqual(posts.map((b) => b.action), ["NEW", "STATELESS_UPDATE", "STATELESS_UPDATE"]);
    assert.equal(record(jobName).status, "RUNNING");
    assert.equal((await blob(`${jobName}.jar`).getProperties()).metadata?.["sha256"], v1.sha256);
  });

  it("a jar pattern matching none fails naming jarFile, before any call", async () => {
    em.log.clear();
    const r = await deploy(`orders-${++names}`, "nothing-built/*.jar");
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /jarFile/);
    assert.deepEqual(em.log.entries({ route: "jobs" }), [], "the job list was not even read");
    assert.deepEqual(em.log.entries({ route: "runJob" }), []);
  });

  it("FlinkJobSubmit of a jar never uploaded fails with the cluster's 'Failed to download jar'", async () => {
    const jobName = `orders-${++names}`;
    const r = await runOnEmulator(em, "FlinkJobSubmit", { jobName, jobJarDirectory: DIR, jarName: "never-uploaded.jar", entryClass: "org.example.Orders", pollingIntervalInSeconds: "1" });
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /Failed to download jar/);
    assert.equal(r.outputs["jobStatus"], "JOB_LAUNCH_FAILED");
    assert.equal(record(jobName).jobOutput, DOWNLOAD_FAILED);
  });
});
