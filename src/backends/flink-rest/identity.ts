/**
 * How the tasks know a job on a Flink cluster across its executions and across pipeline runs,
 * with no store of their own (the Kubernetes operator's discipline, flink-rest-api.md §6):
 *
 * - **The JobID carries the job's tag.** Every run gets a JobID chosen before `/run`: the first
 *   8 hex of sha256("flink-jobs:" + jobName), then 24 random hex. Any later task finds every
 *   execution of the job in `/jobs/overview` by that prefix, even when the jar names its own job
 *   (`env.execute("X")` overrides `pipeline.name`). A retried `/run` carries the same JobID, and
 *   Flink refuses a second job with it ("already submitted" = the first got through).
 * - **A job we did not start** (Flink's CLI or UI) is found by its Flink name when exactly one
 *   live job carries it; two or more → refuse, listing their JobIDs.
 * - **The jar's stored name carries the tag and the job's settings.** Flink stores an upload as
 *   `<uuid>_<name we send>`, and that name is the only per-job text Flink keeps and lists back
 *   (`/jobs/:id/jobmanager/config` is the cluster's configuration, not the job's, and
 *   `/jobs/:id/config` shows only ExecutionConfig). So we send
 *   `fj.<tag>.<base64url JSON {e: entryClass, a: args, p: parallelism, d: savepointDirectory}>.<jar's own name>`.
 *   Start, Update, Stop and Delete read it back from `/jars`. It lives on the JobManager's disk:
 *   after a JobManager restart it is gone, and the task asks for `jarFile` again. Settings too
 *   long for a file name are refused at submit with a message naming the input.
 *   `flinkConfiguration` is not remembered: a later run is given it again or runs without it.
 */
import { createHash, randomBytes } from "node:crypto";
import { isLive, type JarFile, type JobOverview } from "./api";

/** Hex digits of the JobID that name the job. 8 → a stranger's random JobID matches one in 4 billion. */
export const TAG_LENGTH = 8;

export function jobTag(jobName: string): string {
  return createHash("sha256").update(`flink-jobs:${jobName}`).digest("hex").slice(0, TAG_LENGTH);
}

/**
 * The action that started an execution, kept in the two hex digits after the tag: Flink keeps no
 * other per-execution text, and the savepoint history tells a stop from an update's stop by it.
 */
export const RUN_ORIGINS = { submit: "a1", start: "a2", update: "a3", deploy: "a4" } as const;
export type RunOrigin = keyof typeof RUN_ORIGINS;

/** A fresh JobID for an execution of this job, marked with the action that starts it. */
export function newJobId(jobName: string, origin?: RunOrigin): string {
  const mark = origin ? RUN_ORIGINS[origin] : "";
  return jobTag(jobName) + mark + randomBytes(16).toString("hex").slice(0, 32 - TAG_LENGTH - mark.length);
}

/** The action that started an execution (by its JobID's mark); undefined for an unmarked one. */
export function runOriginOf(jobId: string): RunOrigin | undefined {
  const mark = jobId.slice(TAG_LENGTH, TAG_LENGTH + 2);
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
 * name. Two or more live candidates are refused, with their JobIDs.
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
  if (ours.length) return { executions: ours, ours: true };
  const named = jobs.filter((j) => j.name === jobName && isLive(j.state)).sort(newestFirst);
  if (named.length > 1) {
    throw new AmbiguousJobError(
      `${named.length} live jobs on the cluster are named '${jobName}' (${named.map((j) => `${j.jid} ${j.state}`).join(", ")}); the task cannot tell which one is meant. Cancel all but one, or give the job another name.`,
    );
  }
  return { executions: named, ours: false };
}
