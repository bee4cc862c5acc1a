/**
 * FlinkSavepoint dispose on HDInsight on AKS end to end: the bundled task against the emulator
 * (the job's savepoints, from LIST_SAVEPOINT) and Azurite (the savepoints' folders), removing a
 * folder through the Blob API with the connection's credential. Run `npm run build` first.
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
const FILES = ["_metadata", "op-1/part-0", "op-1/part-1", "op-2/part-0"];

describe("FlinkSavepoint dispose on hdinsightAks end to end (bundled task, emulator, savepoint folders in Azurite)", function () {
  this.timeout(180_000);
  let em: Emulator;
  let az: Azurite;
  const [older, restored, last] = ["0000000000a0", "0000000000a1", "0000000000a2"].map((id) => `${DIR}/savepoint-25e318-${id}`) as [string, string, string];
  const folderOf = (p: string) => p.slice(`abfss://state@devstoreaccount1.dfs.core.windows.net/`.length);
  const blobsUnder = async (p: string) => {
    const names: string[] = [];
    for await (const b of blobContainer(em, az, "state").listBlobsFlat({ prefix: `${folderOf(p)}/` })) names.push(b.name);
    return names.sort();
  };

  before(async () => {
    em = await startEmulator({ timeScale: 20 });
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
    const container = blobContainer(em, az, "state");
    await container.create();
    for (const sp of [older, restored, last]) for (const f of FILES) await container.getBlockBlobClient(`${folderOf(sp)}/${f}`).upload("state", 5);
    // Running, its last savepoint `last`.
    em.jobs.seedRunning("orders", { action: "START", savepoints: [older, restored, last], lastSavePoint: last });
  });
  after(async () => {
    await az?.stop();
    await em?.close();
  });

  const dispose = (savepointName: string): Promise<TaskRun> =>
    runOnEmulator(em, "FlinkSavepoint", { target: "hdinsightAks", jobName: "orders", operation: "dispose", savepointName, pollingIntervalInSeconds: "1" }, { env: { [TEST_BLOB_ENDPOINT_ENV]: az.blobEndpoint } });

  it("refuses the job's last savepoint, naming it; removes nothing", async () => {
    const run = await dispose(last.split("/").pop()!);
    assert.equal(run.result, "Failed", run.stdout);
    assert.match(run.resultMessage ?? "", /Not disposing of .*savepoint-25e318-0000000000a2: it is the job's last \(newest\) savepoint/);
    assert.equal((await blobsUnder(last)).length, FILES.length);
  });

  it("removes another savepoint's folder from storage by its name; a re-run finds it gone and succeeds", async () => {
    const run = await dispose("savepoint-25e318-0000000000a0");
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.deepEqual(await blobsUnder(older), []);
    assert.equal((await blobsUnder(last)).length + (await blobsUnder(restored)).length, 2 * FILES.length, "the others are untouched");
    assert.match(run.stdout, /does not say which savepoint the running job was started from/);
    assert.match(run.outputs["jobOutput"] ?? "", /Removed .*savepoint-25e318-0000000000a0 \(4 blob\(s\)\)/);
    assertNoCredentialsInLog(run, em);
    const again = await dispose(older);
    assert.equal(again.result, "Succeeded", again.resultMessage);
    assert.match(again.outputs["jobOutput"] ?? "", /already removed/);
  });

  it("savepointFormat and restoreMode are refused with a message that the service has no such switch, before any call", async () => {
    const run = await runOnEmulator(em, "FlinkSavepoint", { target: "hdinsightAks", jobName: "orders", operation: "trigger", savepointFormat: "native" });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /savepointFormat.*HDInsight on AKS has no such switch/);
  });
});
