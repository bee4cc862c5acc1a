// The test bed's job jars: testbed/flink/job/src compiled with javac against one Flink version's
// lib/ and packaged with jar, cached per version and per source content.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { flinkCacheRoot, installFlink } from "./install";

const run = promisify(execFile);

const SOURCE_DIR = path.join(__dirname, "job", "src");

/** The job's main class (also the Main-Class of the jars that carry one). */
export const TEST_JOB_ENTRY_CLASS = "testbed.flink.CountingJob";

export interface TestJobJars {
  /** Build "v1", Main-Class set: counting operator named "count v1". */
  v1: string;
  /** Build "v2", Main-Class set: same state (uid "count"), operator named "count v2"; for upgrades. */
  v2: string;
  /** Build "v1" without Main-Class in its manifest: a run needs entryClass. */
  v1NoMainClass: string;
  entryClass: string;
}

const JARS: { file: keyof Omit<TestJobJars, "entryClass">; build: string; mainClass: boolean }[] = [
  { file: "v1", build: "v1", mainClass: true },
  { file: "v2", build: "v2", mainClass: true },
  { file: "v1NoMainClass", build: "v1", mainClass: false },
];

function jarName(file: string): string {
  return `testbed-job-${file.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}.jar`;
}

async function sources(): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith(".java")) found.push(full);
    }
  }
  await walk(SOURCE_DIR);
  return found.sort();
}

/**
 * Builds (once per Flink version and source content) and returns the test job jars. Installs
 * Flink `version` first if needed (the jars compile against its lib/).
 */
export async function buildTestJobJars(version: string, options: { log?: (line: string) => void } = {}): Promise<TestJobJars> {
  const home = await installFlink(version, options);
  const files = await sources();
  const hash = createHash("sha256");
  for (const file of files) hash.update(path.relative(SOURCE_DIR, file)).update("\0").update(await fs.readFile(file));
  hash.update(JSON.stringify(JARS));
  const dir = path.join(flinkCacheRoot(), "jobs", version, hash.digest("hex").slice(0, 16));
  const result = {
    ...(Object.fromEntries(JARS.map((j) => [j.file, path.join(dir, jarName(j.file))])) as Omit<TestJobJars, "entryClass">),
    entryClass: TEST_JOB_ENTRY_CLASS,
  };
  if (existsSync(path.join(dir, "complete"))) return result;

  await fs.mkdir(path.dirname(dir), { recursive: true });
  const work = await fs.mkdtemp(`${dir}.build-`);
  try {
    const classes = path.join(work, "classes");
    await run("javac", ["-nowarn", "--release", "11", "-cp", path.join(home, "lib", "*"), "-d", classes, ...files], { maxBuffer: 1 << 24 });
    for (const jar of JARS) {
      const resources = path.join(work, `resources-${jar.file}`);
      await fs.mkdir(resources, { recursive: true });
      await fs.writeFile(path.join(resources, "testbed-job-build.txt"), jar.build + "\n");
      const mainClass = jar.mainClass ? ["--main-class", TEST_JOB_ENTRY_CLASS] : [];
      await run("jar", ["--create", "--file", path.join(work, jarName(jar.file)), ...mainClass, "-C", classes, ".", "-C", resources, "."]);
    }
    await fs.rm(classes, { recursive: true, force: true });
    for (const jar of JARS) await fs.rm(path.join(work, `resources-${jar.file}`), { recursive: true, force: true });
    await fs.writeFile(path.join(work, "complete"), "");
    try {
      await fs.rename(work, dir);
    } catch (err) {
      if (!existsSync(path.join(dir, "complete"))) throw err; // built concurrently by another process: keep theirs
    }
    options.log?.(`Test job jars for Flink ${version}: ${dir}`);
    return result;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
