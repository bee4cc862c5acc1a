/**
 * FlinkSavepoint prune on HDInsight on AKS end to end: the bundled task against the emulator (the
 * job's savepoints, from LIST_SAVEPOINT) and Azurite (the savepoints' folders, dated by their
 * `_metadata` blob and removed through the Blob API). Run `npm run build` first.
 */
import assert from "node:assert/strict";
import { TEST_BLOB_ENDPOINT_ENV } from "../../src/azure/jar-upload";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite, type Azurite } from "../../testbed/azurite/index";
import type { TaskRun } from "../harness/agent";
import { runOnEmulator } from "../harness/emulator-connections";
import { assertNoCredentialsInLog } from "../harness/log-hygiene";
import { blobContainer } from "../jar-upload/helpers";

const DIR = "abfss://state@devstoreaccount1.dfs.core.windows.net/flink/savepoints";
const FILES = ["_metadata", "op-1/part-0", "op-2/part-0"];

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
