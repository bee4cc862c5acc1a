/**
 * Versions that reach agents. An agent caches a task by name and version and never downloads the
 * same version again, so every change to what a task ships must change its version.
 * task-versions.json records, per task, its version and a hash of what it ships (bundle,
 * task.json without its version, icon). `npm run bump` bumps the tasks whose hash moved and
 * the extension; test/versions.test.ts fails when a task changed without a bump.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildTasks, taskFolders } from "./build";

const root = path.resolve(__dirname, "..");
export const LOCK_FILE = path.join(root, "task-versions.json");

export interface VersionLock {
  extension: string;
  tasks: Record<string, { version: string; contentHash: string }>;
}

export function parseVersion(text: string): { Major: number; Minor: number; Patch: number } {
  const [Major, Minor, Patch] = text.split(".").map(Number);
  return { Major: Major ?? 1, Minor: Minor ?? 0, Patch: Patch ?? 0 };
}

export function readVersionLock(): VersionLock {
  return JSON.parse(fs.readFileSync(LOCK_FILE, "utf8")) as VersionLock;
}

/** A task's major version is its folder's contract: FlinkJobSubmit is 1, a FlinkJobSubmitV2 would be 2. */
export function folderMajor(folder: string): number {
  return Number(/V(\d+)$/.exec(folder)?.[1] ?? 1);
}

/** Hash of what the task ships, built in dist/tasks/<Task>; its version fields do not count. */
export function taskContentHash(folder: string): string {
  const dir = path.join(root, "dist", "tasks", folder);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "task.json"), "utf8")) as Record<string, unknown>;
  delete manifest["version"];
  const hash = createHash("sha256");
  hash.update(JSON.stringify(manifest));
  // Every file the task ships (the split bundle's files, the icon), in a fixed order. esbuild names a
  // shared chunk by a hash that also covers where its sources lie (a node_modules reached through a
  // link gives other names for the same code), so chunk names are left out: the code decides.
  const chunkName = /chunk-[A-Z0-9]{8}\.mjs/g;
  const files = fs.readdirSync(dir).filter((f) => f !== "task.json");
  const digests = files.map((file) => {
    const bytes = fs.readFileSync(path.join(dir, file));
    const content = file.endsWith(".mjs") || file.endsWith(".js") ? Buffer.from(bytes.toString("utf8").replace(chunkName, "chunk.mjs")) : bytes;
    return `${file.replace(chunkName, "chunk.mjs")} ${createHash("sha256").update(content).digest("hex")}`;
  });
  for (const digest of digests.sort()) hash.update(digest);
  return hash.digest("hex");
}

function bumpPatch(version: string): string {
  const v = parseVersion(version);
  return `${v.Major}.${v.Minor}.${v.Patch + 1}`;
}

async function bump(): Promise<void> {
  // task.json files first (versions unchanged), then bundles, then compare.
  execFileSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "task-manifests.ts")], { stdio: "inherit" });
  await buildTasks();
  const lock = readVersionLock();
  const changed: string[] = [];
  for (const folder of taskFolders()) {
    const contentHash = taskContentHash(folder);
    const entry = lock.tasks[folder];
    if (!entry) {
      lock.tasks[folder] = { version: `${folderMajor(folder)}.0.0`, contentHash };
      changed.push(`${folder} ${lock.tasks[folder]!.version} (new)`);
    } else if (entry.contentHash !== contentHash) {
      entry.version = bumpPatch(entry.version);
      entry.contentHash = contentHash;
      changed.push(`${folder} ${entry.version}`);
    }
  }
  if (!changed.length) {
    console.log("No task changed; nothing to bump.");
    return;
  }
  lock.extension = bumpPatch(lock.extension);
  fs.writeFileSync(LOCK_FILE, `${JSON.stringify(lock, null, 2)}\n`);
  for (const file of ["vss-extension.json", "package.json", "package-lock.json"]) {
    const json = JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as { version: string; packages?: Record<string, { version?: string }> };
    json.version = lock.extension;
    if (json.packages?.[""]) json.packages[""].version = lock.extension;
    fs.writeFileSync(path.join(root, file), `${JSON.stringify(json, null, 2)}\n`);
  }
  execFileSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "task-manifests.ts")], { stdio: "inherit" });
  await buildTasks();
  console.log(`Extension ${lock.extension}; bumped: ${changed.join(", ")}`);
}

if (require.main === module) {
  bump().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
