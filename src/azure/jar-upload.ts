import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import type { BlobGetPropertiesResponse, BlockBlobClient, Pipeline } from "@azure/storage-blob";
// The package's ESM build in the bundle (its storage-common reads import.meta.url on load, which
// the task's ES module files have): it shares @azure/core-* with the identity code and shakes well.
import * as storageBlob from "@azure/storage-blob";
import { InputError } from "../errors";
import { silentLogger, type Logger } from "../util/logger";
import { checkJarName, parseJarDirectory, type JarDirectory } from "./abfs";
import { armHttpsAgent, type ProxySettings } from "./network";

/**
 * Uploads a locally built jar to the abfs[s]:// directory a Flink job on HDInsight on AKS reads it
 * from, through the Blob API (../shared/reference/jar-upload.md §0): Put Block List replaces a
 * blob atomically, where the DFS API would first truncate the old jar.
 *
 * hash (MD5 + SHA-256, one pass) → HEAD → unchanged | conflict | keep the previous version →
 * uploadFile with a commit conditional on what the HEAD saw → HEAD again to verify.
 */

export const STORAGE_SCOPE = "https://storage.azure.com/.default";
export const BLOB_DATA_CONTRIBUTOR = { name: "Storage Blob Data Contributor", id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe" } as const;
/** Metadata key holding the jar's SHA-256 (hex): how a re-run knows the bytes are already there. */
export const SHA256_METADATA = "sha256";
/** Where a replaced jar's bytes are kept, under the jar's directory (see previousVersionPath). */
export const PREVIOUS_VERSIONS_FOLDER = ".versions";
/**
 * Test seam, never set in production: a path-style Blob endpoint (https://127.0.0.1:<port>/<account>,
 * as Azurite serves) used instead of https://<account>.blob.<suffix>. The abfs account must be the
 * endpoint's account. The task reads it from this environment variable and passes it as
 * `testBlobEndpoint`.
 */
export const TEST_BLOB_ENDPOINT_ENV = "FLINK_JOBS_TEST_BLOB_ENDPOINT";

/** What reaching a jar's blob takes: the credential, the network, and the test seam. */
export type BlobAccess = Pick<JarUploadRequest, "credential" | "network" | "signal" | "retry" | "testBlobEndpoint" | "userAgentPrefix">;

export interface JarUploadRequest {
  /** The local jar. */
  filePath: string;
  /** abfs[s]://<container>@<account>.dfs.<suffix>/<dir>, as the job's jobJarDirectory. */
  jobJarDirectory: string;
  /** Blob file name; default the file's base name. */
  jarName?: string;
  /** false: refuse to replace a different jar (a NEW must not change what a running job reads);
   * true: replace it (UPDATE reads the jar at the same path), keeping the old bytes. */
  overwrite: boolean;
  /** The task's credential; asked for the storage scope. */
  credential: TokenCredential;
  /** The agent's proxy for the Blob host (absent when none or bypassed) and extra CAs (PEM). */
  network?: { proxy?: ProxySettings; caCertificates?: string[] };
  logger?: Logger;
  signal?: AbortSignal;
  /** Default 8 MiB; files up to one block go in one Put Blob. */
  blockSizeBytes?: number;
  /** Blocks in flight, default 4. */
  concurrency?: number;
  /** Called after each block (bytes sent so far); logging is also done here, at most every ~5 s. */
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  /** The storage SDK's retry policy (default: 4 tries, exponential from 4 s). */
  retry?: { maxTries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** See TEST_BLOB_ENDPOINT_ENV. */
  testBlobEndpoint?: string;
  userAgentPrefix?: string;
  /** Input names for error messages. */
  inputs?: { jobJarDirectory?: string; jarFile?: string };
}

export interface JarLocation {
  /** abfss://<container>@<host>/<dir>/<name>: what Flink reads. */
  jarPath: string;
  /** abfss:// directory and file name, as runJob's jobJarDirectory and jarName take them. */
  jobJarDirectory: string;
  jarName: string;
  blobUrl: string;
}

export interface JarUploadResult extends JarLocation {
  /** created: no blob was there; replaced: a different jar was; unchanged: the same bytes were (nothing written). */
  status: "created" | "replaced" | "unchanged";
  sha256: string;
  /** Base64, as Content-MD5. */
  md5: string;
  size: number;
  etag: string;
  /** When a different jar was replaced: where its bytes are kept for a rollback. */
  previous?: JarLocation & { sha256?: string; etag: string };
}

export type JarUploadErrorKind = "conflict" | "race" | "forbidden" | "notFound" | "verification" | "service";

/** Storage refused or failed the upload; the message says what the service said, with its request id. */
export class JarUploadError extends Error {
  override readonly name = "JarUploadError";
  constructor(
    readonly kind: JarUploadErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

interface Target {
  dir: JarDirectory;
  jarName: string;
  container: InstanceType<typeof storageBlob.ContainerClient>;
  blob: BlockBlobClient;
}

export async function uploadJar(req: JarUploadRequest): Promise<JarUploadResult> {
  const log = req.logger ?? silentLogger;
  const target = prepare(req, log);
  req.signal?.throwIfAborted();
  const local = await hashFile(req.filePath, req.signal);
  const here = location(target.dir, target.jarName, target.blob.url);
  log.info(`Jar ${path.basename(req.filePath)}: ${local.size} bytes, SHA-256 ${local.sha256}; destination ${here.jarPath}`);

  const existing = await headOrAbsent(target.blob, target, req);
  let conditions: { ifNoneMatch: string } | { ifMatch: string } = { ifNoneMatch: "*" };
  let previous: JarUploadResult["previous"];
  if (existing) {
    const theirs = existing.metadata?.[SHA256_METADATA];
    const theirMd5 = existing.contentMD5 ? Buffer.from(existing.contentMD5).toString("base64") : undefined;
    // Another tool's upload has no SHA-256 metadata: its Content-MD5 (set at commit) tells the same.
    if (existing.contentLength === local.size && (theirs !== undefined ? theirs === local.sha256 : theirMd5 === local.md5)) {
      log.info(`The jar at ${here.jarPath} already has these bytes (${theirs !== undefined ? `SHA-256 ${local.sha256}` : `Content-MD5 ${local.md5}`}): nothing uploaded.`);
      return { ...here, status: "unchanged", sha256: local.sha256, md5: local.md5, size: local.size, etag: existing.etag! };
    }
    if (!req.overwrite)
      throw new JarUploadError(
        "conflict",
        `A different jar is already at ${here.jarPath} (${existing.contentLength ?? "?"} bytes, SHA-256 ${theirs ?? "not recorded"}, modified ${existing.lastModified?.toISOString() ?? "?"}); ` +
          `it was left as it is. Replacing it changes what a job started from it reads: use another jar name, or allow overwriting.`,
      );
    previous = await keepPreviousVersion(target, existing, req, log);
    conditions = { ifMatch: existing.etag! };
  }

  let uploaded: { etag?: string };
  try {
    uploaded = await upload(target, local, conditions, req, log);
  } catch (e) {
    // A commit whose answer was lost is retried by the SDK, and the retry fails its own condition
    // (409/412): when the blob now holds exactly these bytes, that commit was ours.
    if (!(e instanceof JarUploadError && e.kind === "race")) throw e;
    const now = await headOrAbsent(target.blob, target, req);
    if (!now || !sameBytes(now, local)) throw e;
    log.info(`The commit's answer was lost and its retry refused (${e.code ?? e.status ?? "?"}); the jar at ${here.jarPath} holds these bytes: it was this upload's commit.`);
    uploaded = { ...(now.etag ? { etag: now.etag } : {}) };
  }
  const check = await headOrAbsent(target.blob, target, req);
  const storedMd5 = check?.contentMD5 ? Buffer.from(check.contentMD5).toString("base64") : undefined;
  if (!check || !sameBytes(check, local))
    throw new JarUploadError(
      "verification",
      `The jar at ${here.jarPath} does not read back as uploaded: ${check ? `${check.contentLength} bytes, Content-MD5 ${storedMd5 ?? "none"}, SHA-256 ${check.metadata?.[SHA256_METADATA] ?? "none"}` : "the blob is absent"}; ` +
        `expected ${local.size} bytes, Content-MD5 ${local.md5}, SHA-256 ${local.sha256}.`,
    );
  if (check.etag !== uploaded.etag) log.warning(`The jar at ${here.jarPath} changed again right after the upload (etag ${uploaded.etag ?? "?"} → ${check.etag ?? "?"}), with the same bytes.`);
  log.info(`Uploaded ${here.jarPath} (${existing ? "replaced" : "created"}; Content-MD5 checked).`);
  return { ...here, status: existing ? "replaced" : "created", sha256: local.sha256, md5: local.md5, size: local.size, etag: check.etag!, ...(previous ? { previous } : {}) };
}

/** The blob's length, Content-MD5 and SHA-256 metadata are those of the local jar. */
function sameBytes(p: BlobGetPropertiesResponse, local: { sha256: string; md5: string; size: number }): boolean {
  return p.contentLength === local.size && !!p.contentMD5 && Buffer.from(p.contentMD5).toString("base64") === local.md5 && p.metadata?.[SHA256_METADATA] === local.sha256;
}

/** Every input checked before any network call. */
function prepare(req: JarUploadRequest, log: Logger): Target {
  const dirInput = req.inputs?.jobJarDirectory ?? "jobJarDirectory";
  const fileInput = req.inputs?.jarFile ?? "jarFile";
  const dir = parseJarDirectory(req.jobJarDirectory, dirInput);
  const jarName = checkJarName(req.jarName ?? path.basename(req.filePath), fileInput);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(req.filePath);
  } catch (e) {
    throw new InputError(fileInput, `cannot read '${req.filePath}': ${(e as Error).message}`);
  }
  if (!stat.isFile()) throw new InputError(fileInput, `'${req.filePath}' is not a file`);
  if (/%[0-9a-f]{2}/i.test(`${dir.directory}/${jarName}`))
    log.warning(`The jar path ${dir.directory}/${jarName} contains '%XX': Hadoop reads it literally (not as an escape), and so does this upload.`);
  const blockSize = req.blockSizeBytes ?? 8 * 1024 * 1024;
  if (!Number.isInteger(blockSize) || blockSize < 64 * 1024 || blockSize > 4000 * 1024 * 1024) throw new Error(`blockSizeBytes must be an integer from 64 KiB to 4000 MiB, got ${blockSize}`);

  return { dir, jarName, ...blobClients(dir, jarName, req, log, dirInput) };
}

/** The container and blob clients of <dir>/<jarName>, on the Blob host (or the test seam's endpoint). */
function blobClients(dir: JarDirectory, jarName: string, req: BlobAccess, log: Logger, dirInput: string): Pick<Target, "container" | "blob"> {
  const container = containerClient(dir, req, log, dirInput);
  // Raw name: the SDK encodes each segment (Hadoop paths are unescaped: 'a b' is a space).
  const blob = container.getBlockBlobClient(dir.directory ? `${dir.directory}/${jarName}` : jarName);
  return { container, blob };
}

/** The container client of an abfs[s]:// directory, on the Blob host (or the test seam's endpoint). */
export function containerClient(dir: JarDirectory, req: BlobAccess, log: Logger, dirInput: string): InstanceType<typeof storageBlob.ContainerClient> {
  let base = dir.blobServiceUrl;
  if (req.testBlobEndpoint) {
    const m = /^https:\/\/[^/?#]+\/([a-z0-9]{3,24})\/?$/.exec(req.testBlobEndpoint);
    if (!m) throw new Error(`${TEST_BLOB_ENDPOINT_ENV} must be a path-style https://<host>:<port>/<account> Blob endpoint, got '${req.testBlobEndpoint}'`);
    if (m[1] !== dir.account) throw new InputError(dirInput, `the account '${dir.account}' is not the test Blob endpoint's account '${m[1]!}' (${TEST_BLOB_ENDPOINT_ENV})`);
    base = req.testBlobEndpoint.replace(/\/+$/, "");
    log.warning(`Test seam: Blob requests go to ${base} instead of ${dir.blobServiceUrl}.`);
  }
  return new storageBlob.ContainerClient(`${base}/${dir.container}`, pipeline(req));
}

function pipeline(req: BlobAccess): Pipeline {
  const p = storageBlob.newPipeline(req.credential, {
    userAgentOptions: { userAgentPrefix: req.userAgentPrefix ?? "flink-jobs-azure-pipelines" },
    ...(req.retry ? { retryOptions: req.retry } : {}),
  });
  // One HTTPS agent for every Blob request; a request that carries an agent is left alone by the
  // pipeline's own proxy policy.
  // The agent ARM calls use (CONNECT, the CA trusted inside the tunnel), with the proxy decided
  // for the Blob host.
  const agent = armHttpsAgent({ ...(req.network?.proxy ? { armProxy: req.network.proxy } : {}), ...(req.network?.caCertificates ? { caCertificates: req.network.caCertificates } : {}) });
  p.factories.push({
    create: (next) => ({
      sendRequest: (request) => {
        (request as { agent?: unknown }).agent = agent;
        return next.sendRequest(request);
      },
    }),
  });
  return p;
}

export async function hashFile(filePath: string, signal?: AbortSignal): Promise<{ sha256: string; md5: string; size: number }> {
  const sha = crypto.createHash("sha256");
  const md5 = crypto.createHash("md5");
  let size = 0;
  const stream = fs.createReadStream(filePath, { highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    sha.update(chunk);
    md5.update(chunk);
    size += chunk.length;
  }
  return { sha256: sha.digest("hex"), md5: md5.digest("base64"), size };
}

function location(dir: JarDirectory, jarName: string, blobUrl: string): JarLocation {
  return { jarPath: `${dir.uri}/${jarName}`, jobJarDirectory: dir.uri, jarName, blobUrl };
}

/**
 * The replaced jar's bytes, kept at <dir>/.versions/<id>/<jarName>: the same file name (a job
 * rolled back reads the same jar name) in a directory named by its content (the first 16 hex of
 * its SHA-256; or its etag when another tool wrote it), so a later deploy never overwrites a
 * version a rollback may need, and a re-run reuses the copy. A server-side copy, conditional on
 * the etag the HEAD saw: what is kept is exactly what is being replaced. Nothing deletes old
 * versions; a lifecycle rule on the prefix can.
 */
async function keepPreviousVersion(target: Target, existing: BlobGetPropertiesResponse, req: JarUploadRequest, log: Logger): Promise<NonNullable<JarUploadResult["previous"]>> {
  const theirSha = existing.metadata?.[SHA256_METADATA];
  const id = theirSha && /^[0-9a-f]{64}$/.test(theirSha) ? theirSha.slice(0, 16) : `etag-${existing.etag!.replace(/[^0-9A-Za-z]/g, "")}`;
  const subdir = [target.dir.directory, PREVIOUS_VERSIONS_FOLDER, id].filter(Boolean).join("/");
  const copy = target.container.getBlockBlobClient(`${subdir}/${target.jarName}`);
  const where: NonNullable<JarUploadResult["previous"]> = {
    jarPath: `abfss://${target.dir.container}@${target.dir.dfsHost}/${subdir}/${target.jarName}`,
    jobJarDirectory: `abfss://${target.dir.container}@${target.dir.dfsHost}/${subdir}`,
    jarName: target.jarName,
    blobUrl: copy.url,
    etag: existing.etag!,
    ...(theirSha ? { sha256: theirSha } : {}),
  };
  const kept = await headOrAbsent(copy, target, req);
  if (kept && theirSha && kept.metadata?.[SHA256_METADATA] === theirSha && kept.contentLength === existing.contentLength) {
    log.info(`The jar being replaced is already kept at ${where.jarPath}.`);
    return where;
  }
  try {
    const poller = await copy.beginCopyFromURL(target.blob.url, { sourceConditions: { ifMatch: existing.etag! }, ...(req.signal ? { abortSignal: req.signal } : {}) });
    const done = await poller.pollUntilDone();
    if (done.copyStatus !== "success") throw new JarUploadError("service", `Keeping the replaced jar at ${where.jarPath} did not complete: copy status ${done.copyStatus ?? "unknown"}.`);
  } catch (e) {
    if (e instanceof JarUploadError) throw e;
    throw await mapError(e, target, req, `keeping the jar being replaced at ${where.jarPath}`);
  }
  log.info(`The jar being replaced (SHA-256 ${theirSha ?? "not recorded"}) is kept at ${where.jarPath}.`);
  return where;
}

async function upload(
  target: Target,
  local: { sha256: string; md5: string; size: number },
  conditions: { ifNoneMatch: string } | { ifMatch: string },
  req: JarUploadRequest,
  log: Logger,
): Promise<{ etag?: string }> {
  const blockSize = req.blockSizeBytes ?? 8 * 1024 * 1024;
  // The SDK keeps sibling blocks retrying after one fails for good (a 403 took 48 s instead of
  // 5 s): abort them all on the first fatal error.
  const siblings = new AbortController();
  const onAbort = () => siblings.abort(req.signal?.reason);
  req.signal?.addEventListener("abort", onAbort, { once: true });
  let lastLog = Date.now();
  try {
    const r = await target.blob.uploadFile(req.filePath, {
      blockSize,
      maxSingleShotSize: blockSize,
      concurrency: req.concurrency ?? 4,
      conditions,
      blobHTTPHeaders: { blobContentType: "application/java-archive", blobContentMD5: Buffer.from(local.md5, "base64") },
      metadata: { [SHA256_METADATA]: local.sha256 },
      abortSignal: siblings.signal,
      onProgress: ({ loadedBytes }) => {
        req.onProgress?.(loadedBytes, local.size);
        if (Date.now() - lastLog >= 5000) {
          lastLog = Date.now();
          log.info(`Uploading: ${loadedBytes} of ${local.size} bytes (${Math.floor((100 * loadedBytes) / Math.max(1, local.size))} %)`);
        }
      },
    });
    return { etag: r.etag };
  } catch (e) {
    siblings.abort(e);
    if (req.signal?.aborted) throw req.signal.reason;
    throw await mapError(e, target, req, "uploading the jar", conditions);
  } finally {
    req.signal?.removeEventListener("abort", onAbort);
  }
}

async function headOrAbsent(blob: BlockBlobClient, target: Target, req: BlobAccess): Promise<BlobGetPropertiesResponse | undefined> {
  try {
    return await blob.getProperties(req.signal ? { abortSignal: req.signal } : {});
  } catch (e) {
    if (req.signal?.aborted) throw req.signal.reason;
    const { status, code } = errorFacts(e);
    if (status === 404 && (code === "BlobNotFound" || code === undefined)) return undefined;
    throw await mapError(e, target, req, "reading the jar's properties");
  }
}

export function errorFacts(e: unknown): { status?: number; code?: string; requestId?: string; message?: string } {
  const err = e as { statusCode?: number; code?: string; details?: { errorCode?: string; message?: string; requestId?: string }; response?: { headers?: { get(n: string): string | undefined } }; message?: string };
  // HEAD answers carry the code only in a header (details.errorCode); code and message are empty.
  const code = err.details?.errorCode || err.code || undefined;
  const requestId = err.response?.headers?.get("x-ms-request-id") ?? err.details?.requestId;
  const message = (err.details?.message ?? err.message ?? "").split("\n")[0]?.trim();
  return {
    ...(err.statusCode !== undefined ? { status: err.statusCode } : {}),
    ...(code ? { code } : {}),
    ...(requestId ? { requestId } : {}),
    ...(message ? { message } : {}),
  };
}

async function mapError(e: unknown, target: Target, req: BlobAccess, doing: string, conditions?: { ifNoneMatch: string } | { ifMatch: string }): Promise<Error> {
  const { status, code, requestId, message } = errorFacts(e);
  if (status === undefined) return e instanceof Error ? e : new Error(String(e));
  const ids = requestId ? ` [request id ${requestId}]` : "";
  const said = `${status} ${code ?? ""}${message && message !== code ? `: ${message}` : ""}`.trim();
  const { account, container } = target.dir;
  const jarPath = `${target.dir.uri}/${target.jarName}`;
  if (status === 403 && code === "AuthorizationPermissionMismatch") {
    const who = await principal(req.credential);
    const oid = who.oid ?? "<object id>";
    return new JarUploadError(
      "forbidden",
      `Azure Storage refused ${doing} (${said})${ids}. The pipeline's identity ${who.describe} needs the role '${BLOB_DATA_CONTRIBUTOR.name}' ` +
        `(role id ${BLOB_DATA_CONTRIBUTOR.id}) on the container '${container}' of the storage account '${account}' (or on the account); ` +
        `Owner and Contributor do not give access to blob data, and authorizing the service connection does not add it. Grant it with:\n` +
        `  az role assignment create --role "${BLOB_DATA_CONTRIBUTOR.name}" --assignee-object-id ${oid} --assignee-principal-type ServicePrincipal ` +
        `--scope "$(az storage account show --name ${account} --query id --output tsv)/blobServices/default/containers/${container}"\n` +
        `A new role assignment can take several minutes to apply.`,
      status,
      code,
      requestId,
    );
  }
  if (status === 403 && code === "AuthorizationFailure")
    return new JarUploadError("forbidden", `Azure Storage refused ${doing} (${said})${ids}: usually the storage account's firewall or private endpoint does not admit this agent's network.`, status, code, requestId);
  if ((status === 403 || status === 401) && (code === "AuthenticationFailed" || code === "InvalidAuthenticationInfo"))
    return new JarUploadError("forbidden", `Azure Storage did not accept the pipeline's token for ${doing} (${said})${ids}: check the service connection's tenant and that the account is in it.`, status, code, requestId);
  if (status === 404 && code === "ContainerNotFound")
    return new JarUploadError("notFound", `The container (file system) '${container}' does not exist in the storage account '${account}' (${said})${ids}.`, status, code, requestId);
  if (status === 409 && code === "BlobAlreadyExists" && conditions && "ifNoneMatch" in conditions)
    return new JarUploadError("race", `Another writer created ${jarPath} while this jar was uploading (${said})${ids}; nothing was replaced. Run the step again to compare with what is there now.`, status, code, requestId);
  if (status === 412 && conditions && "ifMatch" in conditions)
    return new JarUploadError(
      "race",
      `Another writer changed ${jarPath} while this jar was uploading (${said})${ids}; the commit was conditional on the version read before (etag ${conditions.ifMatch}), so nothing was replaced. Run the step again.`,
      status,
      code,
      requestId,
    );
  if (status === 412)
    return new JarUploadError("race", `${jarPath} changed while ${doing} (${said})${ids}; nothing was replaced. Run the step again.`, status, code, requestId);
  return new JarUploadError("service", `Azure Storage failed ${doing} for ${jarPath}: ${said}${ids}.`, status, code, requestId);
}

/** Who the storage token names (decoded, not verified: only to tell the user whom to grant). */
async function principal(credential: TokenCredential): Promise<{ oid?: string; describe: string }> {
  try {
    const t = await credential.getToken(STORAGE_SCOPE);
    const claims = JSON.parse(Buffer.from(t?.token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    const oid = typeof claims["oid"] === "string" ? claims["oid"] : undefined;
    const appid = typeof claims["appid"] === "string" ? claims["appid"] : undefined;
    const tid = typeof claims["tid"] === "string" ? claims["tid"] : undefined;
    const parts = [appid ? `application (client) id ${appid}` : undefined, oid ? `object id ${oid}` : undefined, tid ? `tenant ${tid}` : undefined].filter(Boolean);
    return { ...(oid ? { oid } : {}), describe: parts.length ? `(${parts.join(", ")})` : "(unknown principal)" };
  } catch {
    return { describe: "(its object id could not be read from the token)" };
  }
}

/** A jar blob as read by a HEAD: its etag and the SHA-256 recorded in its metadata (absent when another tool wrote it). */
export interface JarBlobState {
  etag: string;
  size?: number;
  sha256?: string;
}

/** Reads the jar at <jobJarDirectory>/<jarName>; undefined when there is none. */
export async function readJarBlob(req: BlobAccess & { jobJarDirectory: string; jarName: string; logger?: Logger }): Promise<JarBlobState | undefined> {
  const dir = parseJarDirectory(req.jobJarDirectory);
  const target: Target = { dir, jarName: req.jarName, ...blobClients(dir, req.jarName, req, req.logger ?? silentLogger, "jobJarDirectory") };
  const p = await headOrAbsent(target.blob, target, req);
  if (!p) return undefined;
  const sha = p.metadata?.[SHA256_METADATA];
  return { etag: p.etag!, ...(p.contentLength !== undefined ? { size: p.contentLength } : {}), ...(sha ? { sha256: sha } : {}) };
}

/**
 * Puts kept bytes back: a server-side copy of `from` (a previous version kept by uploadJar) over
 * the jar at <jobJarDirectory>/<jarName>, conditional on the etag the caller last saw there, so a
 * jar someone else wrote meanwhile is never overwritten. The copy carries the kept blob's
 * metadata (its SHA-256) and Content-MD5.
 */
export async function restoreJar(req: BlobAccess & { from: JarLocation; jobJarDirectory: string; jarName: string; ifMatch: string; logger?: Logger }): Promise<JarBlobState> {
  const log = req.logger ?? silentLogger;
  const dir = parseJarDirectory(req.jobJarDirectory);
  const target: Target = { dir, jarName: req.jarName, ...blobClients(dir, req.jarName, req, log, "jobJarDirectory") };
  const source = parseJarDirectory(req.from.jobJarDirectory);
  const sourceBlob = blobClients(source, req.from.jarName, req, silentLogger, "jobJarDirectory").blob;
  try {
    const poller = await target.blob.beginCopyFromURL(sourceBlob.url, { conditions: { ifMatch: req.ifMatch }, ...(req.signal ? { abortSignal: req.signal } : {}) });
    const done = await poller.pollUntilDone();
    if (done.copyStatus !== "success") throw new JarUploadError("service", `Restoring ${req.from.jarPath} to ${target.dir.uri}/${req.jarName} did not complete: copy status ${done.copyStatus ?? "unknown"}.`);
  } catch (e) {
    if (e instanceof JarUploadError) throw e;
    if (req.signal?.aborted) throw req.signal.reason;
    throw await mapError(e, target, req, `restoring the kept jar ${req.from.jarPath}`, { ifMatch: req.ifMatch });
  }
  const now = await headOrAbsent(target.blob, target, req);
  if (!now) throw new JarUploadError("verification", `The jar at ${target.dir.uri}/${req.jarName} is absent right after restoring it from ${req.from.jarPath}.`);
  const sha = now.metadata?.[SHA256_METADATA];
  log.info(`Restored the previous jar at ${target.dir.uri}/${req.jarName} from ${req.from.jarPath}${sha ? ` (SHA-256 ${sha})` : ""}.`);
  return { etag: now.etag!, ...(now.contentLength !== undefined ? { size: now.contentLength } : {}), ...(sha ? { sha256: sha } : {}) };
}
