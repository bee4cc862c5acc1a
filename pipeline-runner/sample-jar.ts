/**
 * A local run of a pipeline written for a real build: its `jarFile` pattern (target/orders-*.jar)
 * matches nothing in a folder without that build. Rather than fail every Flink step, the runner
 * puts the test bed's sample job (CountingJob, built for the cluster's Flink version) where the
 * pattern looks, and says so in the step's log: the run shows the tasks at work, and the reader
 * learns how to run their own jar (--working-directory <checkout>).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../src/errors";
import { resolveJarFile } from "../src/backends/flink-rest/inputs";
import { buildTestJobJars, TEST_JOB_ENTRY_CLASS } from "../testbed/flink/job";

/** The Flink version a running cluster reports (GET /config), to build the job jars against. */
export async function clusterVersion(restUrl: string): Promise<string> {
  const response = await fetch(`${restUrl.replace(/\/$/, "")}/config`).catch((error: Error) => {
    throw new Error(`--flink-url ${restUrl}: no answer (${error.message})`);
  });
  if (!response.ok) throw new Error(`--flink-url ${restUrl}: GET /config answered ${response.status}: is this a Flink JobManager's REST URL?`);
  const version = ((await response.json()) as { "flink-version"?: string })["flink-version"];
  if (!version) throw new Error(`--flink-url ${restUrl}: GET /config has no flink-version: is this a Flink JobManager's REST URL?`);
  return version;
}

/** A file name the pattern matches: `**\/` dropped, `*` as "1.0", `?` as "x". */
export function fileMatching(pattern: string): string {
  return pattern.replace(/\*\*\//g, "").replace(/\*\*/g, "1.0").replace(/\*/g, "1.0").replace(/\?/g, "x");
}

/** Builds the sample jar once per run, for the cluster's version. */
export function sampleJarSource(restUrl: string): () => Promise<{ jar: string; version: string }> {
  let built: Promise<{ jar: string; version: string }> | undefined;
  return () =>
    (built ??= clusterVersion(restUrl).then(async (version) => ({ jar: (await buildTestJobJars(version)).v1, version })));
}

/**
 * Places the sample jar where `pattern` looks under `workingDirectory` when it matches nothing;
 * returns the note for the step's log, or undefined when the pattern finds a file (or an error the task will report).
 */
export async function placeSampleJarIfMissing(pattern: string, workingDirectory: string, source: () => Promise<{ jar: string; version: string }>): Promise<string | undefined> {
  try {
    resolveJarFile("jarFile", pattern, workingDirectory);
    return undefined;
  } catch (error) {
    if (!(error instanceof InputError) || !/no file matches/.test(error.problem)) return undefined;
  }
  if (path.isAbsolute(pattern)) return undefined;
  const relative = fileMatching(pattern);
  if (!/\.jar$/i.test(relative)) return undefined;
  const { jar, version } = await source();
  const target = path.join(workingDirectory, relative);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(jar, target);
  return (
    `note: no file matches jarFile '${pattern}' under ${workingDirectory}: the runner placed the test bed's sample job there as ${relative} ` +
    `(${TEST_JOB_ENTRY_CLASS}, built for Flink ${version}). To run your own jar, build it and give --working-directory <your checkout>.`
  );
}
