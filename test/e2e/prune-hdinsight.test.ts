/**
 * FlinkSavepoint prune on HDInsight on AKS end to end: the bundled task against the emulator (the
 * job's savepoints, from LIST_SAVEPOINT) and Azurite (the savepoints' folders, dated by their
 * `_metadata` blob and removed through the Blob API); FlinkJobDeploy's retainSavepoints, the same
 * prune after a deploy. Run `npm run build` first.
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

const DIR = "abfss://state@devstoreaccount1.dfs.core.windows.net/flink/savepoints";
const FILES = ["_metadata", "op-1/part-0", "op-2/part-0"];
const SAVEPOINTS = "abfss://state@devstoreaccount1.dfs.core.windows.net/flink/deploy-savepoints";

describe("FlinkSavepoint prune on hdinsightAks end to end (bundled task, emulator, savepoint folders in Azurite)", function () {
  this.timeout(300_000);
  let em: Emulator;
  let az: Azurite;
  // Written oldest (s0) to newest (s5), one every 1.2 s: Azurite's Last-Modified counts seconds.
  const sp = ["0000000000b0", "0000000000b1", "0000000000b2", "0000000000b3", "0000000000b4", "0000000000b5"].map((id) => `${DIR}/savepoint-25e318-${id}`);
  const [s0, s1, s2, s3, s4, s5] = sp as [string, string, string, string, string, string];
  const folderOf = (p: string) => p.slice(`abfss://state@devstoreaccount1.dfs.core.windows.net/`.length);
  const blobsUnder = async (p: string) => {
    const names: string[] = [];
    for await (const b of blobContainer(em, az, "state").listBlobsFlat({ prefix: `${folderOf(p)}/` })) names.push(b.name);
    return names.sort();
  };
  const present = async () => {
    const left: string[] = [];
    for (const p of sp) if ((await blobsUnder(p)).includes(`${folderOf(p)}/_metadata`)) left.push(p.split("/").pop()!);
    return left;
  };
  const short = (p: string) => p.split("/").pop()!;

  before(async () => {
    em = await startEmulator({ timeScale: 20 });
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
    const container = blobContainer(em, az, "state");
    await container.create();
    for (const p of sp) {
      for (const f of FILES) await container.getBlockBlobClient(`${folderOf(p)}/${f}`).upload("state", 5);
      await new Promise((r) => setTimeout(r, 1200));
    }
    // Listed in an order that is not their age: the prune must go by the storage's times. Running,
    // its last savepoint s5; its record (as the service's) does not say what it was started from.
    em.jobs.seedRunning("orders", { action: "START", savepoints: [s3, s0, s5, s1, s4, s2], lastSavePoint: s5 });
  });
  after(async () => {
    await az?.stop();
    await em?.close();
  });

  const prune = (inputs: Record<string, string>): Promise<TaskRun> =>
    runOnEmulator(em, "FlinkSavepoint", { target: "hdinsightAks", jobName: "orders", operation: "prune", pollingIntervalInSeconds: "1", ...inputs }, { env: { [TEST_BLOB_ENDPOINT_ENV]: az.blobEndpoint } });

  it("maxAgeDays: savepoints written today are younger than a day, so none goes for its age", async () => {
    const run = await prune({ keepLast: "10", maxAgeDays: "1" });
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.deepEqual(await present(), sp.map(short));
    assert.match(run.outputs["jobOutput"] ?? "", /Removed 0: none/);
  });

  it("a removal that fails is reported, the others go on and the step fails; the re-run once storage lets go removes it", async () => {
    // An infinite lease on one blob of s2: storage refuses to delete it.
    const leased = blobContainer(em, az, "state").getBlobClient(`${folderOf(s2)}/op-1/part-0`).getBlobLeaseClient();
    await leased.acquireLease(-1);
    const run = await prune({ keepLast: "2" });
    assert.equal(run.result, "Failed", run.stdout);
    assert.match(run.resultMessage ?? "", /1 of 4 savepoint removal\(s\) failed: .*savepoint-25e318-0000000000b2: Could not delete .*op-1\/part-0.*412/);
    assert.match(run.stdout, /Going on with the others/);
    // keepLast 2 keeps s5 and s4, the newest by their _metadata times (by the list's order they
    // would be s2 and s4); s0, s1 and s3 are gone; s2 is still there, whole enough to restore.
    assert.deepEqual(await present(), [s2, s4, s5].map(short));
    for (const p of [s0, s1, s3]) assert.deepEqual(await blobsUnder(p), [], p);
    assert.match(run.stdout, /does not say which savepoint the running job was started from/);
    assertNoCredentialsInLog(run, em);

    await leased.breakLease(0);
    const again = await prune({ keepLast: "2" });
    assert.equal(again.result, "Succeeded", `${again.resultMessage}\n${again.stdout}`);
    assert.deepEqual(await blobsUnder(s2), []);
    assert.deepEqual(await present(), [s4, s5].map(short));
    assert.match(again.outputs["jobOutput"] ?? "", /Removed 1: savepoint-25e318-0000000000b2\./);
    assert.match(again.outputs["jobOutput"] ?? "", /savepoint-25e318-0000000000b5 \(the job's last \(newest\) savepoint\)/);
  });

  it("a second prune removes nothing more", async () => {
    const run = await prune({ keepLast: "2" });
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.match(run.outputs["jobOutput"] ?? "", /Kept 2: .*Removed 0: none\. 4 listed savepoint\(s\) have no _metadata/);
    assert.deepEqual(await present(), [s4, s5].map(short));
  });

  it("keepLast 0 still keeps the protected one, the job's last savepoint", async () => {
    const run = await prune({ keepLast: "0" });
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.deepEqual(await present(), [s5].map(short));
    assert.match(run.outputs["jobOutput"] ?? "", /Kept 1: savepoint-25e318-0000000000b5 \(the job's last \(newest\) savepoint\)/);
    assert.deepEqual(await blobsUnder(s4), []);
  });
});

describe("FlinkJobDeploy retainSavepoints on hdinsightAks end to end (bundled task, emulator, jars and savepoint folders in Azurite)", function () {
  this.timeout(300_000);
  let em: Emulator;
  let az: Azurite;
  let work: string;
  const JARS = "abfss://jars@devstoreaccount1.dfs.core.windows.net/flink";
  const folderOf = (p: string) => p.slice(`abfss://state@devstoreaccount1.dfs.core.windows.net/`.length);
  const blobsUnder = async (p: string) => {
    const names: string[] = [];
    for await (const b of blobContainer(em, az, "state").listBlobsFlat({ prefix: `${folderOf(p)}/` })) names.push(b.name);
    return names;
  };

  before(async () => {
    em = await startEmulator({ timeScale: 20 });
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
    em.storage.useBlobStorage(az.blobEndpoint);
    await blobContainer(em, az, "jars").create();
    await blobContainer(em, az, "state").create();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "retain-hdi-e2e-"));
  });
  after(async () => {
    await az?.stop();
    await em?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const env = () => ({ [TEST_BLOB_ENDPOINT_ENV]: az.blobEndpoint });
  /** A build's output with bytes of its own, under the working directory. */
  const build = (): string => {
    const dir = fs.mkdtempSync(path.join(work, "build-"));
    fs.writeFileSync(path.join(dir, "orders.jar"), crypto.randomBytes(20_000));
    return `${path.basename(dir)}/orders.jar`;
  };
  const deploy = (jarFile: string, inputs: Record<string, string> = {}): Promise<TaskRun> =>
    runOnEmulator(
      em,
      "FlinkJobDeploy",
      { target: "hdinsightAks", jobName: "orders", jarFile, jobJarDirectory: JARS, entryClass: "org.example.Orders", savepointDirectory: SAVEPOINTS, healthCheckSeconds: "1", pollingIntervalInSeconds: "1", ...inputs },
      { env: env(), variables: { "System.DefaultWorkingDirectory": work } },
    );
  const ok = (r: TaskRun) => assert.equal(r.result, "Succeeded", `${r.resultMessage}\n${r.stdout}`);

  it("after a successful upgrade keeps the newest N and the protected; a removal that fails is a warning; the next deploy removes it", async () => {
    const jar = build();
    ok(await deploy(jar));
    // Three savepoints taken by FlinkSavepoint; their folders written as Flink would, a little apart.
    const taken: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runOnEmulator(em, "FlinkSavepoint", { target: "hdinsightAks", jobName: "orders", operation: "trigger", pollingIntervalInSeconds: "1" }, { env: env() });
      ok(run);
      const written = run.outputs["savepointPath"]!;
      assert.ok(written.startsWith(`${SAVEPOINTS}/`), written);
      for (const f of ["_metadata", "op-1/part-0"]) await blobContainer(em, az, "state").getBlockBlobClient(`${folderOf(written)}/${f}`).upload("state", 5);
      taken.push(written);
      await new Promise((r) => setTimeout(r, 1200));
    }
    const [p1, p2, p3] = taken as [string, string, string];

    const upgraded = await deploy(build(), { retainSavepoints: "1" });
    ok(upgraded);
    assert.equal(upgraded.outputs["deployAction"], "upgraded");
    assert.match(upgraded.stdout, /retainSavepoints: keeping the newest 1 savepoint/);
    assert.deepEqual(await blobsUnder(p1), []);
    assert.deepEqual(await blobsUnder(p2), []);
    assert.equal((await blobsUnder(p3)).length, 2, "the newest of those in storage is kept");

    // keepLast 0 would remove p3, but storage refuses: the deploy still succeeds, with a warning.
    const leased = blobContainer(em, az, "state").getBlobClient(`${folderOf(p3)}/op-1/part-0`).getBlobLeaseClient();
    await leased.acquireLease(-1);
    const refused = await deploy(build(), { retainSavepoints: "0" });
    ok(refused);
    assert.match(refused.stdout, /##vso\[task\.issue type=warning[^\]]*\]retainSavepoints: 1 of 1 savepoint removal\(s\) failed: .*LeaseIdMissing/);
    assert.equal((await blobsUnder(p3)).length, 2);

    await leased.breakLease(0);
    const again = await deploy(build(), { retainSavepoints: "0" });
    ok(again);
    assert.deepEqual(await blobsUnder(p3), []);
    assertNoCredentialsInLog(again, em);
  });
});
