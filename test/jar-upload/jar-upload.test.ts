import assert from "node:assert/strict";
import type { TokenCredential } from "@azure/core-auth";
import { InputError } from "../../src/errors";
import { BLOB_DATA_CONTRIBUTOR, JarUploadError, uploadJar, type JarUploadRequest } from "../../src/azure/jar-upload";
import { withoutNock } from "../harness/without-nock";
import { eventually, randomJar, sha256, startDroppingConnectProxy, startStorageBed, startStorageFaultProxy, type StorageBed } from "./helpers";

const MiB = 1024 * 1024;

/**
 * The jar upload against real Azurite (HTTPS, OAuth) with tokens the emulated Entra issues
 * through the real ClientSecretCredential. Every assertion reads the blob back with a separate
 * client.
 */
describe("jar upload to abfs storage (Azurite)", () => {
  withoutNock();
  let bed: StorageBed;
  let n = 0;
  /** A fresh container per test; the abfs URI names Azurite's account. */
  let container: string;
  const dirUri = (dir = "flink/jobs") => `abfss://${container}@devstoreaccount1.dfs.core.windows.net/${dir}`;
  const request = (filePath: string, more: Partial<JarUploadRequest> = {}): JarUploadRequest => ({
    filePath,
    jobJarDirectory: dirUri(),
    overwrite: false,
    credential: bed.credential,
    network: { caCertificates: [bed.em.caCertPem] },
    testBlobEndpoint: bed.az.blobEndpoint,
    blockSizeBytes: MiB,
    ...more,
  });

  before(async () => {
    bed = await startStorageBed();
  });
  after(async () => {
    await bed?.close();
  });
  beforeEach(async () => {
    container = `jars${++n}`;
    await bed.container(container).create();
  });

  it("uploads a new jar in blocks: the bytes, Content-MD5 and the SHA-256 metadata read back", async () => {
    const jar = randomJar(bed.tmp, "job-1.0.jar", 5 * MiB + 12345);
    const r = await uploadJar(request(jar.path));
    assert.equal(r.status, "created");
    assert.equal(r.jarPath, `abfss://${container}@devstoreaccount1.dfs.core.windows.net/flink/jobs/job-1.0.jar`);
    assert.equal(r.jobJarDirectory, `abfss://${container}@devstoreaccount1.dfs.core.windows.net/flink/jobs`);
    assert.equal(r.jarName, "job-1.0.jar");
    assert.equal(r.sha256, jar.sha256);
    assert.equal(r.previous, undefined);
    const blob = bed.container(container).getBlockBlobClient("flink/jobs/job-1.0.jar");
    const props = await blob.getProperties();
    assert.equal(props.contentLength, jar.data.length);
    assert.equal(Buffer.from(props.contentMD5!).toString("base64"), jar.md5);
    assert.equal(props.metadata?.["sha256"], jar.sha256);
    assert.equal(props.etag, r.etag);
    assert.equal(sha256(await blob.downloadToBuffer()), jar.sha256);
    const blocks = await blob.getBlockList("committed");
    assert.equal(blocks.committedBlocks?.length, 6, "5 MiB + a bit in 1 MiB blocks");
  });

  it("an unchanged re-run writes nothing: same etag and last-modified", async () => {
    const jar = randomJar(bed.tmp, "same.jar", 2 * MiB);
    await uploadJar(request(jar.path));
    const blob = bed.container(container).getBlockBlobClient("flink/jobs/same.jar");
    const before = await blob.getProperties();
    await new Promise((r) => setTimeout(r, 1100)); // last-modified has one-second resolution
    const again = await uploadJar(request(jar.path));
    assert.equal(again.status, "unchanged");
    assert.equal(again.sha256, jar.sha256);
    const after = await blob.getProperties();
    assert.equal(after.etag, before.etag);
    assert.equal(after.lastModified?.getTime(), before.lastModified?.getTime());
    // Also with overwrite allowed: still nothing written, nothing copied aside.
    const third = await uploadJar(request(jar.path, { overwrite: true }));
    assert.equal(third.status, "unchanged");
    assert.equal((await blob.getProperties()).etag, before.etag);
    const names: string[] = [];
    for await (const b of bed.container(container).listBlobsFlat()) names.push(b.name);
    assert.deepEqual(names, ["flink/jobs/same.jar"]);
  });

  it("the same bytes uploaded by another tool (Content-MD5, no SHA-256 metadata) are unchanged too", async () => {
    const jar = randomJar(bed.tmp, "by-az-cli.jar", 100_000);
    const blob = bed.container(container).getBlockBlobClient("flink/jobs/by-az-cli.jar");
    await blob.upload(jar.data, jar.data.length, { blobHTTPHeaders: { blobContentMD5: Buffer.from(jar.md5, "base64") } });
    const before = await blob.getProperties();
    const r = await uploadJar(request(jar.path));
    assert.equal(r.status, "unchanged");
    assert.equal((await blob.getProperties()).etag, before.etag);
  });

  it("without overwrite, a different jar at the path is refused and left as it is", async () => {
    const v1 = randomJar(bed.tmp, "app.jar", 300_000);
    await uploadJar(request(v1.path));
    const v2 = randomJar(bed.tmp, "app.jar", 310_000);
    await assert.rejects(uploadJar(request(v2.path)), (e: unknown) => {
      assert.ok(e instanceof JarUploadError && e.kind === "conflict", String(e));
      assert.match(e.message, /A different jar is already at abfss:\/\/.*\/flink\/jobs\/app\.jar \(300000 bytes, SHA-256 [0-9a-f]{64}/);
      return true;
    });
    assert.equal(sha256(await bed.container(container).getBlockBlobClient("flink/jobs/app.jar").downloadToBuffer()), v1.sha256);
  });

  it("replaces with overwrite and keeps the previous version's bytes where a rollback can use them", async () => {
    const v1 = randomJar(bed.tmp, "app.jar", 3 * MiB);
    const first = await uploadJar(request(v1.path));
    const v2 = randomJar(bed.tmp, "app.jar", 3 * MiB + 7);
    const r = await uploadJar(request(v2.path, { overwrite: true }));
    assert.equal(r.status, "replaced");
    assert.equal(r.sha256, v2.sha256);
    const prevDir = `abfss://${container}@devstoreaccount1.dfs.core.windows.net/flink/jobs/.versions/${v1.sha256.slice(0, 16)}`;
    assert.deepEqual(
      { jobJarDirectory: r.previous?.jobJarDirectory, jarName: r.previous?.jarName, jarPath: r.previous?.jarPath, sha256: r.previous?.sha256, etag: r.previous?.etag },
      { jobJarDirectory: prevDir, jarName: "app.jar", jarPath: `${prevDir}/app.jar`, sha256: v1.sha256, etag: first.etag },
    );
    const c = bed.container(container);
    assert.equal(sha256(await c.getBlockBlobClient("flink/jobs/app.jar").downloadToBuffer()), v2.sha256);
    const kept = c.getBlockBlobClient(`flink/jobs/.versions/${v1.sha256.slice(0, 16)}/app.jar`);
    assert.equal(sha256(await kept.downloadToBuffer()), v1.sha256);
    assert.equal((await kept.getProperties()).metadata?.["sha256"], v1.sha256);

    // Back to v1 (a rollback re-deploying it): v2 is kept too, and v1's copy is not rewritten.
    const keptEtag = (await kept.getProperties()).etag;
    const back = await uploadJar(request(v1.path, { overwrite: true }));
    assert.equal(back.status, "replaced");
    assert.equal(back.previous?.jarPath, `abfss://${container}@devstoreaccount1.dfs.core.windows.net/flink/jobs/.versions/${v2.sha256.slice(0, 16)}/app.jar`);
    assert.equal((await kept.getProperties()).etag, keptEtag);
    assert.equal(sha256(await c.getBlockBlobClient("flink/jobs/app.jar").downloadToBuffer()), v1.sha256);
  });

  it("a writer that changes the jar during the upload makes the conditional commit fail, reported as a race; its bytes stay", async () => {
    const v1 = randomJar(bed.tmp, "race.jar", 1 * MiB);
    await uploadJar(request(v1.path));
    const other = randomJar(bed.tmp, "other.jar", 1000);
    const v2 = randomJar(bed.tmp, "race.jar", 4 * MiB);
    const blob = bed.container(container).getBlockBlobClient("flink/jobs/race.jar");
    let wrote: Promise<unknown> | undefined;
    await assert.rejects(
      uploadJar(
        request(v2.path, {
          overwrite: true,
          concurrency: 1,
          // The other writer strikes after the first block, before the commit.
          onProgress: () => (wrote ??= blob.upload(other.data, other.data.length)),
        }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof JarUploadError && e.kind === "race", String(e));
        assert.equal(e.status, 412);
        assert.match(e.message, /Another writer changed abfss:\/\/.*\/flink\/jobs\/race\.jar while this jar was uploading \(412 ConditionNotMet.*\[request id [0-9a-f-]+\].*nothing was replaced/s);
        return true;
      },
    );
    await wrote;
    assert.equal(sha256(await blob.downloadToBuffer()), other.sha256);
  });

  it("the same race on a new jar (If-None-Match: *) is reported too", async () => {
    const other = randomJar(bed.tmp, "other.jar", 1000);
    const jar = randomJar(bed.tmp, "new.jar", 3 * MiB);
    const blob = bed.container(container).getBlockBlobClient("flink/jobs/new.jar");
    let wrote: Promise<unknown> | undefined;
    await assert.rejects(
      uploadJar(request(jar.path, { concurrency: 1, onProgress: () => (wrote ??= blob.upload(other.data, other.data.length)) })),
      (e: unknown) => e instanceof JarUploadError && e.kind === "race" && /Another writer created .*new\.jar.*409 BlobAlreadyExists/s.test(e.message),
    );
    await wrote;
    assert.equal(sha256(await blob.downloadToBuffer()), other.sha256);
  });

  it("a commit whose answer is lost (its retry then fails the condition) is recognised as this upload's", async () => {
    const v1 = randomJar(bed.tmp, "lost.jar", 1 * MiB);
    await uploadJar(request(v1.path));
    let commits = 0;
    const proxy = await startStorageFaultProxy(bed.em, bed.az, (method, url) => (method === "PUT" && url.includes("comp=blocklist") && ++commits === 1 ? "loseAnswer" : "forward"));
    try {
      const v2 = randomJar(bed.tmp, "lost.jar", 3 * MiB);
      const r = await uploadJar(request(v2.path, { overwrite: true, testBlobEndpoint: proxy.blobEndpoint, retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200 } }));
      assert.equal(r.status, "replaced");
      assert.equal(commits, 2, `the SDK retried the commit: ${proxy.requests.join("; ")}`);
      assert.ok(proxy.requests.some((l) => l.includes("comp=blocklist") && l.endsWith("forward")));
      assert.equal(sha256(await bed.container(container).getBlockBlobClient("flink/jobs/lost.jar").downloadToBuffer()), v2.sha256);
    } finally {
      await proxy.close();
    }
  });

  it("bad abfs URIs are refused naming jobJarDirectory, before any network call", async () => {
    const jar = randomJar(bed.tmp, "x.jar", 10);
    let tokens = 0;
    const credential: TokenCredential = { getToken: () => (tokens++, Promise.reject(new Error("no token expected"))) };
    const cases: Array<[string, RegExp]> = [
      ["https://acct.blob.core.windows.net/jars/dir", /not an https:\/\/ URL/],
      ["abfs://jars@flinkstore/jars", /no endpoint suffix: write the full name, e\.g\. flinkstore\.dfs\.core\.windows\.net/],
      ["abfs://Jars@acct.dfs.core.windows.net/jars", /container \(file system\) 'Jars' must be 3-63 lower-case/],
      ["abfs://jars@acct.privatelink.dfs.core.windows.net/jars", /public name/],
      ["abfs://jars@acct.dfs.example.com/jars", /not a storage account endpoint/],
      ["abfs://jars@acct.dfs.core.windows.net/a//b", /empty path segments/],
      ["abfs://jars@acct.dfs.core.windows.net/a/../b", /'\.' and '\.\.'/],
      ["wasbs://jars@acct.blob.core.windows.net/a", /not an abfs\[s\]/],
    ];
    for (const [uri, why] of cases) {
      await assert.rejects(uploadJar({ filePath: jar.path, jobJarDirectory: uri, overwrite: false, credential }), (e: unknown) => {
        assert.ok(e instanceof InputError, `${uri}: ${String(e)}`);
        assert.equal(e.input, "jobJarDirectory");
        assert.match(e.message, why, uri);
        assert.ok(e.message.includes(uri), "names what was given");
        return true;
      });
    }
    assert.equal(tokens, 0);
  });

  it("403 AuthorizationPermissionMismatch names the role, the principal and the az command; the sibling blocks are aborted", async () => {
    let puts = 0;
    const proxy = await startStorageFaultProxy(bed.em, bed.az, (method, url) => {
      if (method !== "PUT" || !url.includes("comp=block")) return "forward";
      return ++puts === 1 ? { status: 403, code: "AuthorizationPermissionMismatch", message: "This request is not authorized to perform this operation using this permission." } : "hold";
    });
    try {
      const jar = randomJar(bed.tmp, "denied.jar", 6 * MiB);
      await assert.rejects(uploadJar(request(jar.path, { testBlobEndpoint: proxy.blobEndpoint, concurrency: 4 })), (e: unknown) => {
        assert.ok(e instanceof JarUploadError && e.kind === "forbidden", String(e));
        const m = e.message;
        assert.match(m, /403 AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission\./);
        assert.match(m, /\[request id [0-9a-f-]{36}\]/);
        assert.ok(m.includes(`'${BLOB_DATA_CONTRIBUTOR.name}' (role id ba92f5b4-2d11-453d-a403-e96b0029c9fe)`), m);
        assert.ok(m.includes(`object id ${bed.em.servicePrincipal.objectId}`), m);
        assert.ok(m.includes(`application (client) id ${bed.em.servicePrincipal.clientId}`), m);
        assert.ok(
          m.includes(
            `az role assignment create --role "Storage Blob Data Contributor" --assignee-object-id ${bed.em.servicePrincipal.objectId} --assignee-principal-type ServicePrincipal --scope "$(az storage account show --name devstoreaccount1 --query id --output tsv)/blobServices/default/containers/${container}"`,
          ),
          m,
        );
        return true;
      });
      assert.ok(proxy.held.length >= 1, `blocks in flight beside the refused one: ${proxy.requests.join("; ")}`);
      await eventually(() => proxy.held.every((h) => h.abortedByClient), "every held sibling block aborted by the client");
      assert.equal(puts, 1 + proxy.held.length, "nothing retried");
    } finally {
      await proxy.close();
    }
  });

  it("a 403 on the preflight HEAD (code only in a header) is mapped the same way", async () => {
    const proxy = await startStorageFaultProxy(bed.em, bed.az, () => ({ status: 403, code: "AuthorizationPermissionMismatch", message: "This request is not authorized to perform this operation using this permission." }));
    try {
      const jar = randomJar(bed.tmp, "head.jar", 1000);
      await assert.rejects(
        uploadJar(request(jar.path, { testBlobEndpoint: proxy.blobEndpoint })),
        (e: unknown) =>
          e instanceof JarUploadError &&
          e.kind === "forbidden" &&
          e.message.startsWith("Azure Storage refused reading the jar's properties (403 AuthorizationPermissionMismatch)") &&
          e.message.includes(`--assignee-object-id ${bed.em.servicePrincipal.objectId}`),
      );
      assert.deepEqual(proxy.requests.map((r) => r.split(" ")[0]), ["HEAD"], "nothing sent after the refused HEAD");
    } finally {
      await proxy.close();
    }
  });

  it("a cancelled step stops the upload: the abort reason, nothing committed", async () => {
    const proxy = await startStorageFaultProxy(bed.em, bed.az, (method, url) => (method === "PUT" && url.includes("comp=block") ? "hold" : "forward"));
    try {
      const jar = randomJar(bed.tmp, "cancel.jar", 4 * MiB);
      const controller = new AbortController();
      const run = uploadJar(request(jar.path, { testBlobEndpoint: proxy.blobEndpoint, signal: controller.signal }));
      await eventually(() => proxy.held.length > 0, "a block in flight");
      const reason = new Error("the step was cancelled");
      controller.abort(reason);
      await assert.rejects(run, (e: unknown) => e === reason);
      await eventually(() => proxy.held.every((h) => h.abortedByClient), "the blocks in flight aborted");
      assert.equal(await bed.container(container).getBlockBlobClient("flink/jobs/cancel.jar").exists(), false);
    } finally {
      await proxy.close();
    }
  });

  it("a missing container is named", async () => {
    const jar = randomJar(bed.tmp, "x.jar", 1000);
    await assert.rejects(
      uploadJar(request(jar.path, { jobJarDirectory: "abfss://nosuchcontainer@devstoreaccount1.dfs.core.windows.net/jars" })),
      /The container \(file system\) 'nosuchcontainer' does not exist in the storage account 'devstoreaccount1' \(404 ContainerNotFound/,
    );
  });

  it("goes through the agent's proxy, and a network dropping connections mid-upload still ends right", async () => {
    const proxy = await startDroppingConnectProxy({ dropTunnels: 2, dropAfterBytes: 400_000 });
    try {
      const jar = randomJar(bed.tmp, "flaky.jar", 6 * MiB);
      const r = await uploadJar(
        request(jar.path, {
          network: { caCertificates: [bed.em.caCertPem], proxy: { url: proxy.url } },
          retry: { maxTries: 6, retryDelayInMs: 50, maxRetryDelayInMs: 500 },
        }),
      );
      assert.equal(r.status, "created");
      assert.equal(proxy.dropped(), 2, "two connections were cut mid-body");
      const port = new URL(bed.az.blobEndpoint).port;
      assert.ok(proxy.tunnels.length > 2 && proxy.tunnels.every((t) => t === `127.0.0.1:${port}`), proxy.tunnels.join(", "));
      const blob = bed.container(container).getBlockBlobClient("flink/jobs/flaky.jar");
      assert.equal(sha256(await blob.downloadToBuffer()), jar.sha256);
      assert.equal((await blob.getProperties()).metadata?.["sha256"], jar.sha256);
    } finally {
      await proxy.close();
    }
  });

  it("names with spaces and Unicode are kept raw, as Hadoop reads them", async () => {
    const jar = randomJar(bed.tmp, "ü-日本 v1.jar", 1000);
    const r = await uploadJar(request(jar.path, { jobJarDirectory: dirUri("a b/c") }));
    assert.equal(r.jarPath, `abfss://${container}@devstoreaccount1.dfs.core.windows.net/a b/c/ü-日本 v1.jar`);
    const names: string[] = [];
    for await (const b of bed.container(container).listBlobsFlat()) names.push(b.name);
    assert.deepEqual(names, ["a b/c/ü-日本 v1.jar"]);
  });
});
