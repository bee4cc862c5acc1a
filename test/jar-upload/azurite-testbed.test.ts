import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite } from "../../testbed/azurite/index";
import { blobContainer } from "./helpers";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

describe("testbed/azurite", () => {
  let em: Emulator;
  before(async () => {
    em = await startEmulator();
  });
  after(() => em?.close());

  for (const persistence of ["memory", "disk"] as const) {
    it(`${persistence}: serves Blob over HTTPS with the emulator's certificate; stop() ends it and removes its files`, async () => {
      const az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem, persistence });
      const url = new URL(az.blobEndpoint);
      assert.equal(url.hostname, "127.0.0.1");
      assert.equal(url.pathname, "/devstoreaccount1");
      const c = blobContainer(em, az, "probe");
      await c.create();
      await c.getBlockBlobClient("a.jar").upload("jar", 3);
      assert.equal((await c.getBlockBlobClient("a.jar").downloadToBuffer()).toString(), "jar");
      assert.equal(fs.existsSync(`${az.directory}/data`), persistence === "disk", "blobs on disk only when asked");
      await az.stop();
      assert.equal(fs.existsSync(az.directory), false, "its directory is removed");
      assert.equal(await portOpen(Number(url.port)), false, "nothing listens after stop()");
    });
  }
});
