// Installs a complete FLINK_HOME for one Flink version from PyPI, once, into a shared cache.
// apache-flink-libraries carries lib/, opt/, plugins/ and bin/bash-java-utils.jar; apache-flink
// (taken with --no-deps: its Python dependencies are not needed) carries bin/ scripts and conf/.
import { execFile } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Repository root (this file lives in <repo>/testbed/flink). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Written last into a FLINK_HOME: its presence means the install is complete. */
const MARKER = ".testbed-installed.json";

/** Root of the cache: env FLINK_TESTBED_CACHE (so worktrees can share one download), else <repo>/.cache/flink. */
export function flinkCacheRoot(): string {
  const fromEnv = process.env.FLINK_TESTBED_CACHE;
  return fromEnv ? path.resolve(fromEnv) : path.join(REPO_ROOT, ".cache", "flink");
}

/** Where FLINK_HOME of a version lives (installed or not). */
export function flinkHomePath(version: string): string {
  return path.join(flinkCacheRoot(), version);
}

export function isFlinkInstalled(version: string): boolean {
  return existsSync(path.join(flinkHomePath(version), MARKER));
}

export interface InstallOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

function python(): string {
  return process.env.PYTHON ?? "python3";
}

/**
 * Makes FLINK_HOME for `version` complete and returns its path. Idempotent: once the marker is
 * written, a second call returns at once. Concurrent installs (two worktrees) each build in a
 * private directory and rename it into place; the loser discards its copy.
 */
export async function installFlink(version: string, options: InstallOptions = {}): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`Not a Flink version: ${JSON.stringify(version)}`);
  const home = flinkHomePath(version);
  if (isFlinkInstalled(version)) return home;
  const log = options.log ?? (() => undefined);
  const root = flinkCacheRoot();
  await fs.mkdir(root, { recursive: true });
  const work = await fs.mkdtemp(path.join(root, `.install-${version}-`));
  try {
    const downloads = path.join(work, "downloads");
    const staged = path.join(work, "home");
    const started = Date.now();
    log(`Flink ${version}: downloading apache-flink-libraries and apache-flink from PyPI`);
    const pip = [python(), "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-cache-dir", "--quiet", "-d", downloads];
    await run(pip[0]!, [...pip.slice(1), `apache-flink-libraries==${version}`], { maxBuffer: 1 << 24 });
    // apache-flink is a platform wheel; its bin/ and conf/ are the same in every one, so ask for
    // one fixed platform whatever the local Python is (no sdist build, no compiler).
    await run(
      pip[0]!,
      [...pip.slice(1), "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
        "--implementation", "cp", "--abi", "cp311", `apache-flink==${version}`],
      { maxBuffer: 1 << 24 },
    );
    const archives = (await fs.readdir(downloads)).map((name) => path.join(downloads, name));
    log(`Flink ${version}: unpacking ${archives.map((a) => path.basename(a)).join(", ")}`);
    const { stdout } = await run(python(), [path.join(__dirname, "unpack.py"), staged, ...archives], { maxBuffer: 1 << 24 });
    for (const line of stdout.trim().split("\n")) log(`  ${line}`);
    await fs.rm(downloads, { recursive: true, force: true });
    await verifyHome(staged, version);
    await fs.writeFile(
      path.join(staged, MARKER),
      JSON.stringify({ version, source: "PyPI apache-flink-libraries + apache-flink", installedAt: new Date().toISOString() }, null, 2) + "\n",
    );
    try {
      await fs.rename(staged, home);
    } catch (err) {
      if (!isFlinkInstalled(version)) throw err; // another installer won the race: use its copy
    }
    log(`Flink ${version}: installed in ${home} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return home;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Fails unless the staged home has what a session cluster needs, with run bits on the scripts. */
async function verifyHome(home: string, version: string): Promise<void> {
  const lib = await fs.readdir(path.join(home, "lib"));
  if (!lib.includes(`flink-dist-${version}.jar`)) throw new Error(`Flink ${version}: lib/flink-dist-${version}.jar missing after unpack`);
  for (const script of ["jobmanager.sh", "taskmanager.sh", "flink-console.sh", "config.sh", "flink"]) {
    const stat = await fs.stat(path.join(home, "bin", script));
    if ((stat.mode & 0o111) === 0) throw new Error(`Flink ${version}: bin/${script} lost its run bit`);
  }
  for (const file of ["bin/bash-java-utils.jar", "conf/config.yaml", "conf/log4j-console.properties"]) {
    await fs.access(path.join(home, file));
  }
}
