import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { uploadJar } from "../../src/azure/jar-upload";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite, type Azurite } from "../../testbed/azurite/index";
import { blobContainer, emulatorCredential, randomJar } from "../jar-upload/helpers";
import { actionBody, armToken, newJobBody, runToEnd, uniqueName } from "./helpers";

const DOWNLOAD_FAILED = "Job execution failed. \nFailed to download jar";

/**
 * The emulator with its jars in Azurite: a job launches only from a jar blob that is there,
 * uploaded here by the task's own jar upload.
 */
describe("emulator: jars read from Blob storage (Azurite)", () => {
  let em: Emulator;
  let az: Azurite;
  let token: string;
  let tmp: string;
  const dir = "abfss://jars@devstoreaccount1.dfs.core.windows.net/flink";
  const upload = (name: string) =>
    uploadJar({
      filePath: randomJar(tmp, name, 200_000).path,
      jobJarDirectory: dir,
      overwrite: false,
      credential: emulatorCredential(em),
      network: { caCertificates: [em.caCertPem] },
      testBlobEndpoint: az.blobEndpoint,
    });
  const newJob = (name: string, jarName: string, jobJarDirectory = dir) => newJobBody(em, name, { jobJarDirectory, jarName });

  before(async () => {
    em = await startEmulator();
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
    em.storage.useBlobStorage(az.blobEndpoint);
    token = await armToken(em);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "blob-jars-"));
    await blobContainer(em, az, "jars").create();
  });
  after(async () => {
    await az?.stop();
    await em?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("NEW of a jar that was never uploaded fails the launch: 'Failed to download jar'", async () => {
    const p = (await runToEnd(em, token, newJob(uniqueName(), "never-uploaded.jar"))).properties;
    assert.deepEqual([p.status, p.actionResult, p.jobOutput], ["JOB_LAUNCH_FAILED", "FAILED", DOWNLOAD_FAILED]);
  });

  it("the demo jar of the emulated account is not in this storage: it fails too", async () => {
    const p = (await runToEnd(em, token, newJobBody(em, uniqueName()))).properties;
    assert.equal(p.jobOutput, DOWNLOAD_FAILED);
  });

  it("NEW of an uploaded jar runs; UPDATE to a jar not uploaded fails; once uploaded, the UPDATE runs", async () => {
    const v1 = await upload("app-1.0.jar");
    const name = uniqueName();
    const started = (await runToEnd(em, token, newJob(name, v1.jarName, v1.jobJarDirectory))).properties;
    assert.deepEqual([started.status, started.actionResult], ["RUNNING", "SUCCESS"]);

    const other = uniqueName();
    await runToEnd(em, token, newJob(other, v1.jarName, v1.jobJarDirectory));
    const missing = (await runToEnd(em, token, actionBody(other, "UPDATE", { jarName: "app-2.0.jar" }))).properties;
    assert.deepEqual([missing.status, missing.actionResult, missing.jobOutput], ["JOB_LAUNCH_FAILED", "FAILED", DOWNLOAD_FAILED]);

    const v2 = await upload("app-2.0.jar");
    const up = (await runToEnd(em, token, actionBody(name, "UPDATE", { jarName: v2.jarName }))).properties;
    assert.deepEqual([up.status, up.actionResult, up.jarName], ["RUNNING", "SUCCESS", "app-2.0.jar"]);
    assert.deepEqual(em.storage.list().sort(), [`${dir}/app-1.0.jar`, `${dir}/app-2.0.jar`]);
  });
});
