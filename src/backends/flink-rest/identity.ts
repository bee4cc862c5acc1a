/**
 * How the tasks know a job on a Flink cluster across its executions and across pipeline runs,
 * with no store of their own (the Kubernetes operator's discipline, flink-rest-api.md §6):
 *
 * - **The JobID carries the job's tag and what the execution runs.** Every run gets a JobID chosen
 *   before `/run`: the first 8 hex of sha256("flink-jobs:" + jobName), 8 hex of the jar's SHA-256,
 *   8 hex of the settings' digest, 8 random hex. Any later task finds every execution of the job
 *   in `/jobs/overview` by that prefix, even when the jar names its own job (`env.execute("X")`
 *   overrides `pipeline.name`), and reads what each execution runs from its own JobID, never from
 *   the newest upload. A retried `/run` carries the same JobID, and Flink refuses a second job with
 *   it ("already submitted" = the first got through).
 * - **A job we did not start** (Flink's CLI or UI) is found by its Flink name when exactly one
 *   live job carries it; two or more → refuse, listing their JobIDs.
 * - **The jar's stored name carries the tag and the job's settings.** Flink stores an upload as
 *   `<uuid>_<name we send>`, and that name is the only per-job text Flink keeps and lists back
 *   (`/jobs/:id/jobmanager/config` is the cluster's configuration, not the job's, and
 *   `/jobs/:id/config` shows only ExecutionConfig). So we send
 *   `fj.<tag>.<base64url JSON {e: entryClass, a: args, p: parallelism, d: savepointDirectory}>.<jar's own name>`.
 *   Start, Update, Stop and Delete read it back from `/jars`; the jar an execution runs is the one
 *   whose recorded SHA-256 prefix (`h`) and settings' digest (`s`) its JobID carries. It lives on the
 *   JobManager's disk: after a JobManager restart it is gone, and the task asks for `jarFile`
 *   again. The flinkConfiguration (`f`) is kept too as room allows; settings that do not fit in a
 *   file name are left out, never refused, and the task names the inputs a later step must give again.
 */
import { createHash, randomBytes } from "node:crypto";
import { isLive, type JarFile, type JobOverview } from "./api";

/** Hex digits of the JobID that name the job. 8 → a stranger's random JobID matches one in 4 billion. */
export const TAG_LENGTH = 8;

export function jobTag(jobName: string): string {
  return createHash("sha256").update(`flink-jobs:${jobName}`).digest("hex").slice(0, TAG_LENGTH);
}

/** Hex digits of the JobID, after the tag, that carry the jar's SHA-256 and then the settings' digest. */
export const ARTIFACT_DIGEST_LENGTH = 8;

/** What an execution runs, as its JobID carries it: the jar's SHA-256 (hex) and the digest of its settings (hex). */
export interface RunsWhat {
  jarSha256?: string;
  settingsDigest?: string;
}

/**
 * The action that started an execution, kept in two hex digits of its JobID: Flink keeps no other
 * per-execution text, and the savepoint history tells a stop from an update's stop by it.
 */
export const RUN_ORIGINS = { submit: "a1", start: "a2", update: "a3", deploy: "a4" } as const;
export type RunOrigin = keyof typeof RUN_ORIGINS;
/** Where the origin's two digits sit: after the tag and the two digests. */
const ORIGIN_AT = TAG_LENGTH + 2 * ARTIFACT_DIGEST_LENGTH;

/**
 * A fresh JobID for an execution of this job: tag (8 hex), the first 8 hex of the jar's SHA-256,
 * 8 hex of the settings' digest, 2 hex naming the action that starts it ("00": not said), 6 random
 * hex. So the execution itself says what it runs and why; where a digest is unknown its digits are
 * random (1 in 4 billion to match a given jar by chance).
 */
export function newJobId(jobName: string, runs: RunsWhat = {}, origin?: RunOrigin): string {
  const random = randomBytes(16).toString("hex");
  const part = (hex: string | undefined, at: number) => (hex && /^[0-9a-f]{8}/i.test(hex) ? hex.slice(0, ARTIFACT_DIGEST_LENGTH).toLowerCase() : random.slice(at, at + ARTIFACT_DIGEST_LENGTH));
  const mark = origin ? RUN_ORIGINS[origin] : "00";
  return jobTag(jobName) + part(runs.jarSha256, 0) + part(runs.settingsDigest, 8) + mark + random.slice(16, 16 + 32 - ORIGIN_AT - mark.length);
}

/** What a JobID chosen by newJobId says the execution runs (digits only: a JobID we did not choose reads as random digits). */
export function runsWhat(jobId: string): { jarDigest: string; settingsDigest: string } {
  return { jarDigest: jobId.slice(TAG_LENGTH, TAG_LENGTH + ARTIFACT_DIGEST_LENGTH), settingsDigest: jobId.slice(TAG_LENGTH + ARTIFACT_DIGEST_LENGTH, ORIGIN_AT) };
}

/** The action that started an execution (by its JobID's mark); undefined for an unmarked one. */
export function runOriginOf(jobId: string): RunOrigin | undefined {
  const mark = jobId.slice(ORIGIN_AT, ORIGIN_AT + 2);
  return (Object.keys(RUN_ORIGINS) as RunOrigin[]).find((o) => RUN_ORIGINS[o] === mark);
}

export function isExecutionOf(jobId: string, jobName: string): boolean {
  return jobId.startsWith(jobTag(jobName));
}

/** What a later run needs and Flink does not keep for us. */
export interface JobSettings {
  entryClass?: string;
  args: string[];
  parallelism?: number;
  savepointDirectory?: string;
}

/** Flink stores `<36-char uuid>_<name>`; 255 bytes is the file-name limit of common file systems. */
export const MAX_UPLOAD_NAME_BYTES = 255 - 37;
const PREFIX = "fj";

export class SettingsTooLongError extends Error {}

/** Which settings, dropped in this order, a name keeps without when all do not fit (the input each comes from). */
const DROPPABLE: Array<[key: string, input: string]> = [
  ["f", "flinkConfiguration"],
  ["a", "args"],
  ["d", "savepointDirectory"],
  ["e", "entryClass"],
  ["p", "parallelism"],
];

/**
 * jarUploadName, keeping as many settings as fit: never refuses. `dropped` names the inputs a
 * later Start, Update or rollback must be given again.
 */
export function jarUploadNameFitting(jobName: string, settings: JobSettings, originalName: string, extra: Record<string, unknown> = {}): { name: string; dropped: string[] } {
  const kept: JobSettings = { ...settings };
  const keptExtra: Record<string, unknown> = { ...extra };
  const dropped: string[] = [];
  for (let i = 0; ; i++) {
    try {
      return { name: jarUploadName(jobName, kept, originalName, keptExtra), dropped };
    } catch (error) {
      const next = DROPPABLE[i];
      if (!(error instanceof SettingsTooLongError) || !next) throw error;
      const [key, input] = next;
      const present = key === "f" ? keptExtra["f"] !== undefined : key === "a" ? kept.args.length > 0 : key === "d" ? kept.savepointDirectory !== undefined : key === "e" ? kept.entryClass !== undefined : kept.parallelism !== undefined;
      if (key === "f") delete keptExtra["f"];
      else if (key === "a") kept.args = [];
      else if (key === "d") delete kept.savepointDirectory;
      else if (key === "e") delete kept.entryClass;
      else delete kept.parallelism;
      if (present) dropped.push(input);
    }
  }
}

/**
 * The name we upload a jar under: tag, settings, and (as room allows) the jar's own name.
 * `extra` adds fields under keys of their own (FlinkJobDeploy: the jar's SHA-256 and the job's
 * configuration); readers that do not know a key ignore it.
 */
export function jarUploadName(jobName: string, settings: JobSettings, originalName: string, extra: Record<string, unknown> = {}): string {
  const compact: Record<string, unknown> = { ...extra };
  if (settings.entryClass) compact["e"] = settings.entryClass;
  if (settings.args.length) compact["a"] = settings.args;
  if (settings.parallelism !== undefined) compact["p"] = settings.parallelism;
  if (settings.savepointDirectory) compact["d"] = settings.savepointDirectory;
  const encoded = Object.keys(compact).length ? Buffer.from(JSON.stringify(compact), "utf8").toString("base64url") : "";
  const head = `${PREFIX}.${jobTag(jobName)}.${encoded}.`;
  const room = MAX_UPLOAD_NAME_BYTES - Buffer.byteLength(head) - ".jar".length;
  if (room < 1) throw new SettingsTooLongError(`${Buffer.byteLength(head) - 13} bytes of settings encoded`);
  const own = originalName.replace(/\.jar$/i, "").replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, room) || "job";
  return `${head}${own}.jar`;
}

/** The tag and settings in a jar's listed name (`<uuid>_fj.<tag>.<settings>.<name>.jar`), or undefined for a jar not ours. */
export function readJarName(listedName: string): { tag: string; settings: JobSettings } | undefined {
  const match = /^(?:[0-9a-f-]{36}_)?fj\.([0-9a-f]{8})\.([A-Za-z0-9_-]*)\.[^.]*\.jar$/.exec(listedName);
  if (!match) return undefined;
  const settings: JobSettings = { args: [] };
  if (match[2]) {
    let compact: Record<string, unknown>;
    try {
      compact = JSON.parse(Buffer.from(match[2], "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (typeof compact["e"] === "string") settings.entryClass = compact["e"];
    if (Array.isArray(compact["a"]) && compact["a"].every((a) => typeof a === "string")) settings.args = compact["a"] as string[];
    if (typeof compact["p"] === "number") settings.parallelism = compact["p"];
    if (typeof compact["d"] === "string") settings.savepointDirectory = compact["d"];
  }
  return { tag: match[1]!, settings };
}

/** Every field a jar's listed name carries (the settings' short keys and any extra), or undefined for a jar not ours. */
export function jarNameFields(listedName: string): Record<string, unknown> | undefined {
  const match = /^(?:[0-9a-f-]{36}_)?fj\.[0-9a-f]{8}\.([A-Za-z0-9_-]*)\.[^.]*\.jar$/.exec(listedName);
  if (!match) return undefined;
  if (!match[1]) return {};
  try {
    const fields: unknown = JSON.parse(Buffer.from(match[1], "base64url").toString("utf8"));
    return typeof fields === "object" && fields !== null && !Array.isArray(fields) ? (fields as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A short digest of a flinkConfiguration, whatever the order of its keys (`c` in a jar's name). */
export function configDigest(configuration: Record<string, string>): string {
  const sorted = Object.entries(configuration).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(sorted)).digest().subarray(0, 9).toString("base64url");
}

/** The digest (8 hex) of the settings an execution runs with, as its JobID carries it: equal digest, same job definition. */
export function settingsDigest(settings: JobSettings, configuration: Record<string, string>): string {
  const text = JSON.stringify({ entryClass: settings.entryClass ?? null, args: settings.args, parallelism: settings.parallelism ?? null, savepointDirectory: settings.savepointDirectory ?? null, configuration: configDigest(configuration) });
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** Hex digits of the jar's SHA-256 a jar's name keeps (`h`): room in a file name is short, and JobIDs carry only 8. */
const RECORDED_SHA_HEX = 16;

/**
 * What an uploaded jar's name records besides the settings: a prefix of its SHA-256 (`h`), its
 * settings' digest (`s`, which also covers the configuration) and, as room allows, the
 * flinkConfiguration (`f`).
 */
export function recordedFields(jarSha256: string, settings: JobSettings, configuration: Record<string, string>): Record<string, unknown> {
  return {
    h: jarSha256.slice(0, RECORDED_SHA_HEX),
    s: settingsDigest(settings, configuration),
    ...(Object.keys(configuration).length ? { f: configuration } : {}),
  };
}

/** `h` as hex: a hex prefix, or (jars uploaded by earlier versions) the whole SHA-256 in base64url. */
function recordedSha(h: unknown): string | undefined {
  if (typeof h !== "string") return undefined;
  return /^[0-9a-f]{16,64}$/.test(h) ? h : Buffer.from(h, "base64url").toString("hex");
}

/** A jar kept for the job, with what its name recorded. */
export interface KeptJar extends JarFile {
  settings: JobSettings;
  /** The jar's SHA-256 (hex), where recorded. */
  sha256?: string;
  /** The digest of the settings it was uploaded with (`s`), where recorded. */
  settingsDigest?: string;
  /** The flinkConfiguration it was uploaded with; undefined when it was not kept (too long). */
  configuration?: Record<string, string>;
  /** false: some settings it was uploaded with were too long to keep with it (a run from it must be given them again). */
  complete: boolean;
}

/** The job's kept jar that the execution `jobId` runs, as its JobID says (jar and settings digests); undefined when none is kept. */
export function jarRunBy(jars: JarFile[], jobName: string, jobId: string): KeptJar | undefined {
  if (!isExecutionOf(jobId, jobName)) return undefined;
  const runs = runsWhat(jobId);
  return keptJars(jars, jobName).find((jar) => jar.sha256?.startsWith(runs.jarDigest) && jar.settingsDigest === runs.settingsDigest);
}

/** The jars the extension uploaded for this job, newest first, with what their names recorded. */
export function keptJars(jars: JarFile[], jobName: string): KeptJar[] {
  return jarsOf(jars, jobName).map((jar) => {
    const fields = jarNameFields(jar.name) ?? jarNameFields(jar.id) ?? {};
    const kept = fields["f"];
    const digest = typeof fields["s"] === "string" ? fields["s"] : undefined;
    const sha256 = recordedSha(fields["h"]);
    const configurationKept = typeof kept === "object" && kept !== null && !Array.isArray(kept) && Object.values(kept).every((v) => typeof v === "string") ? (kept as Record<string, string>) : undefined;
    // Complete when what was read back has the digest it was uploaded with (settings that did not fit were left out).
    const complete = digest === undefined || settingsDigest(jar.settings, configurationKept ?? {}) === digest;
    const configuration = configurationKept ?? (complete ? {} : undefined);
    return { ...jar, complete, ...(sha256 ? { sha256 } : {}), ...(digest ? { settingsDigest: digest } : {}), ...(configuration ? { configuration } : {}) };
  });
}

/** The jars the extension uploaded for this job, newest first. */
export function jarsOf(jars: JarFile[], jobName: string): Array<JarFile & { settings: JobSettings }> {
  const tag = jobTag(jobName);
  return jars
    .map((jar) => {
      const read = readJarName(jar.name) ?? readJarName(jar.id);
      return read?.tag === tag ? { ...jar, settings: read.settings } : undefined;
    })
    .filter((j): j is JarFile & { settings: JobSettings } => j !== undefined)
    .sort((a, b) => b.uploaded - a.uploaded);
}

/** Which executions on the cluster are this job's. */
export interface JobExecutions {
  /** Newest first. */
  executions: JobOverview[];
  /** true: found by JobID tag (ours); false: one live job of that Flink name, started elsewhere. */
  ours: boolean;
}

export class AmbiguousJobError extends Error {}

/**
 * The job's executions: ours by JobID tag; else the one live job whose Flink name is the job
 * name. Two or more live candidates are refused, with their JobIDs, and so is a live job of the
 * name started elsewhere while no execution of ours is live.
 */
export function findExecutions(jobs: JobOverview[], jobName: string): JobExecutions {
  const newestFirst = (a: JobOverview, b: JobOverview) => b.startTime - a.startTime;
  const ours = jobs.filter((j) => isExecutionOf(j.jid, jobName)).sort(newestFirst);
  const liveOurs = ours.filter((j) => isLive(j.state));
  if (liveOurs.length > 1) {
    throw new AmbiguousJobError(
      `Job '${jobName}' has ${liveOurs.length} live executions on the cluster (${liveOurs.map((j) => `${j.jid} ${j.state}`).join(", ")}); cancel all but one with Flink's UI or CLI, then run the task again.`,
    );
  }
  const named = jobs.filter((j) => j.name === jobName && isLive(j.state) && !isExecutionOf(j.jid, jobName)).sort(newestFirst);
  if (ours.length && !liveOurs.length && named.length) {
    // Our newest execution has ended and a live one of the name runs: reporting ours would hide it, starting ours would run two.
    throw new AmbiguousJobError(
      `Job '${jobName}': no execution of the tasks' is live (the newest, ${ours[0]!.jid}, is ${ours[0]!.state}), but a live job of the same Flink name was started elsewhere ` +
        `(${named.map((j) => `${j.jid} ${j.state}`).join(", ")}); the task cannot tell which one is meant. Cancel that job, or give this one another name.`,
    );
  }
  if (ours.length) return { executions: ours, ours: true };
  if (named.length > 1) {
    throw new AmbiguousJobError(
      `${named.length} live jobs on the cluster are named '${jobName}' (${named.map((j) => `${j.jid} ${j.state}`).join(", ")}); the task cannot tell which one is meant. Cancel all but one, or give the job another name.`,
    );
  }
  return { executions: named, ours: false };
}
