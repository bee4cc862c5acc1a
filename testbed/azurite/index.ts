/**
 * Azurite (Microsoft's Azure Storage emulator, from npm) as a test bed for the jar upload: the
 * Blob service only, on 127.0.0.1 with an ephemeral port, over HTTPS, with OAuth ("basic": it
 * checks a bearer token's issuer, audience and lifetime, not its signature or roles).
 *
 * Pinned to azurite 3.35.0: the last release whose engines allow Node 20 (3.36 needs ≥ 21, 3.37
 * needs ≥ 22). See ../shared/reference/jar-upload.md §3 for each flag.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const AZURITE_ACCOUNT = "devstoreaccount1";

export interface AzuriteOptions {
  /** Server certificate and key (PEM). Give one the emulator's CA signed (Emulator.serverTls)
   * so NODE_EXTRA_CA_CERTS=<emulator ca.pem> trusts Azurite too. */
  certPem: string;
  keyPem: string;
  /** Keep the blobs in memory (default) or in a temporary directory (long suites: Azurite keeps
   * every byte it was sent in memory otherwise). */
  persistence?: "memory" | "disk";
  /** Milliseconds to wait for Azurite to listen (default 60 s: two cores shared under load). */
  startTimeoutMs?: number;
}

export interface Azurite {
  /** Path-style Blob endpoint: https://127.0.0.1:<port>/devstoreaccount1 */
  blobEndpoint: string;
  accountName: typeof AZURITE_ACCOUNT;
  /** What Azurite printed (for a failing test's message). */
  output(): string;
  stop(): Promise<void>;
}

const LISTENING = /successfully listens on (https:\/\/127\.0\.0\.1:\d+)/;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startAzurite(options: AzuriteOptions): Promise<Azurite> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "azurite-"));
  const certPath = path.join(work, "cert.pem");
  const keyPath = path.join(work, "key.pem");
  fs.writeFileSync(certPath, options.certPem);
  fs.writeFileSync(keyPath, options.keyPem, { mode: 0o600 });
  const storage = options.persistence === "disk" ? ["--location", path.join(work, "data")] : ["--inMemoryPersistence"];
  const main = require.resolve("azurite/dist/src/blob/main.js");
  const args = [
    main,
    "--blobHost", "127.0.0.1",
    "--blobPort", "0",
    ...storage,
    "--cert", certPath,
    "--key", keyPath,
    "--oauth", "basic",
    // 3.35 refuses the x-ms-version of @azure/storage-blob 12.32 (2026-04-06) without it.
    "--skipApiVersionCheck",
    // On by default since 3.34: it would send to Application Insights from a test run.
    "--disableTelemetry",
    "--disableProductStyleUrl",
  ];
  const child = spawn(process.execPath, args, { cwd: work, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test that dies mid-way must not leave Azurite behind.
    process.on("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = () => {
    running.delete(child);
    fs.rmSync(work, { recursive: true, force: true });
  };
  const blobEndpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 60000} ms:\n${output}`)), options.startTimeoutMs ?? 60000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = LISTENING.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]!}/${AZURITE_ACCOUNT}`);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => fail(new Error(`Azurite exited (${code ?? signal}) before listening:\n${output}`)));
    child.once("error", (e) => fail(e));
  }).catch(async (e: unknown) => {
    await exited;
    cleanup();
    throw e;
  });
  return {
    blobEndpoint,
    accountName: AZURITE_ACCOUNT,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killLater = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killLater);
      cleanup();
    },
  };
}
