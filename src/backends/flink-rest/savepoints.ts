/**
 * A job's savepoints on a Flink session cluster as a managed asset: their history, a name resolved
 * to a path, disposal and retention. Flink REST knows only the executions still in its job store
 * (jobstore.expiration-time) and, per execution, its latest savepoint and those among its last
 * web.checkpoints.history checkpoints; savepoint directories on the agent's own disk (file://)
 * are read too, so older savepoints are found there. What neither shows is not listed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { JobStateError } from "../../errors";
import type { ActionOutcome, SavepointEntry } from "../../jobs/backend";
import { chooseRemovals, type Retention } from "../../jobs/savepoint-retention";
import type { Logger } from "../../util/logger";
import { type CheckpointStats, type FlinkApi, type FlinkVersion, isLive, type JobOverview, savepointDirKey } from "./api";
import { jobTag, runOriginOf } from "./identity";
import { savepointsOf, type Verdict } from "./judge";

/** A savepoint's name, the last part of its path: `savepoint-<6 hex of the JobID>-<12 hex>`. */
export const SAVEPOINT_NAME = /^savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;

/** A stop followed within this long by an execution that Update or Deploy started was theirs. */
const UPGRADE_GAP_MS = 120_000;

type Waiter = <O, T>(phase: string, observe: (signal: AbortSignal) => Promise<O>, judge: (o: O) => Verdict<T>) => Promise<Exclude<Verdict<T>, { done: false }>>;

/** What the savepoint operations need from the action that runs them. */
export interface SavepointContext {
  api: FlinkApi;
  jobName: string;
  version: FlinkVersion;
  signal: AbortSignal;
  log: Logger;
  clusterConfig(): Promise<Record<string, string>>;
  /** The action's wait, within its deadline. */
  waitFor: Waiter;
  /** Marks that a change was sent (for the timeout message). */
  sent(): void;
}

/** One savepoint as the history knows it. */
interface Known extends SavepointEntry {
  name: string;
  millis: number;
  /** On the agent's disk: whether its folder is there. undefined: not a local path. */
  onDisk?: boolean;
}

/** The job's savepoint directories, in the order a name is looked up: the job's, then the cluster's default. */
export async function savepointDirectories(ctx: SavepointContext, jobDirectory: string | undefined): Promise<Array<{ dir: string; described: string }>> {
  const dirs: Array<{ dir: string; described: string }> = [];
  if (jobDirectory) dirs.push({ dir: jobDirectory, described: "the job's savepointDirectory" });
  const config = await ctx.clusterConfig();
  const key = savepointDirKey(ctx.version);
  const fallback = config[key] ?? config["state.savepoints.dir"] ?? config["execution.checkpointing.savepoint-dir"];
  if (fallback && fallback.replace(/\/+$/, "") !== jobDirectory?.replace(/\/+$/, "")) dirs.push({ dir: fallback, described: `the cluster's default, ${key}` });
  return dirs;
}

/** The local folder of a file:// URI or an absolute path; undefined for any other scheme (s3://, abfss://, hdfs://…). */
export function localPath(uri: string): string | undefined {
  if (uri.startsWith("/")) return uri;
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return fileURLToPath(new URL(uri));
  } catch {
    return undefined;
  }
}

function nameOf(savepointPath: string): string {
  return savepointPath.replace(/\/_metadata$/, "").replace(/\/+$/, "").split("/").pop() ?? savepointPath;
}

function joinUri(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/**
 * `savepointName` as a path: a full path as given; a name looked up among the savepoints Flink
 * lists for the job, then under the job's savepoint directory and the cluster's default. A local
 * (file://) directory is checked on disk; another scheme cannot be read from here, so the name
 * is joined to it unchecked, and the log says so.
 */
export async function resolveSavepoint(ctx: SavepointContext, nameOrPath: string, jobDirectory: string | undefined, executions: JobOverview[]): Promise<string> {
  if (!SAVEPOINT_NAME.test(nameOrPath)) return nameOrPath;
  for (const exec of executions) {
    const listed = savepointsOf(await ctx.api.checkpoints(exec.jid, ctx.signal)).find((p) => nameOf(p.externalPath!) === nameOrPath);
    if (listed) {
      const found = listed.externalPath!.replace(/\/_metadata$/, "");
      ctx.log.info(`savepointName ${nameOrPath}: ${found} (Flink lists it for execution ${exec.jid}).`);
      return found;
    }
  }
  const looked: string[] = [];
  for (const { dir, described } of await savepointDirectories(ctx, jobDirectory)) {
    const local = localPath(dir);
    const candidate = joinUri(dir, nameOrPath);
    if (local === undefined) {
      ctx.log.info(`savepointName ${nameOrPath}: using ${candidate} (in ${described}); its existence is not checked from here (not a local file:// directory), Flink checks it when it restores.`);
      return candidate;
    }
    if (fs.existsSync(path.join(local, nameOrPath, "_metadata"))) {
      ctx.log.info(`savepointName ${nameOrPath}: found in ${described}: ${candidate}.`);
      return candidate;
    }
    looked.push(`${dir} (${described})`);
  }
  throw new JobStateError(
    `savepointName: no savepoint named ${nameOrPath} among the savepoints Flink lists for job '${ctx.jobName}'` +
      (looked.length ? ` nor in ${looked.join(" or ")}` : ", and the job has no savepointDirectory and the cluster no default savepoint directory") +
      ". Give the savepoint's full path (FlinkJobStop's savepointPath), or list the job's savepoints with FlinkSavepoint (operation list).",
  );
}

/** Everything known about the job's savepoints, newest first, and which are protected from disposal. */
export async function savepointHistory(
  ctx: SavepointContext,
  executions: JobOverview[],
  jobDirectory: string | undefined,
): Promise<{ entries: Known[]; protectedNames: Map<string, string>; note: string }> {
  const stats = new Map<string, CheckpointStats | undefined>();
  for (const exec of executions) stats.set(exec.jid, await ctx.api.checkpoints(exec.jid, ctx.signal));
  const live = executions.find((e) => isLive(e.state));
  const restoredByLive = live ? stats.get(live.jid)?.latestRestored?.externalPath : undefined;
  const oldestFirst = [...executions].sort((a, b) => a.startTime - b.startTime);
  const byName = new Map<string, Known>();
  for (const exec of executions) {
    for (const p of savepointsOf(stats.get(exec.jid))) {
      const name = nameOf(p.externalPath!);
      if (byName.has(name)) continue;
      const millis = p.timestamp ?? 0;
      byName.set(name, {
        name,
        millis,
        path: p.externalPath!.replace(/\/_metadata$/, ""),
        time: millis ? new Date(millis).toISOString() : null,
        origin: originOf(p.checkpointType, p.externalPath!, millis, exec, oldestFirst, stats),
        jobId: exec.jid,
        restoredByLive: false,
      });
    }
  }
  // Savepoint folders on the agent's disk: `savepoint-<first 6 hex of the JobID>-…`, and every
  // JobID of this job starts with its tag. Read: the job's and the cluster's directories, and
  // every folder Flink wrote one of its savepoints to (a later run may have had no directory input).
  const prefix = `savepoint-${jobTag(ctx.jobName).slice(0, 6)}-`;
  const dirs = [...(await savepointDirectories(ctx, jobDirectory)).map((d) => d.dir), ...[...byName.values()].map((e) => e.path.slice(0, e.path.length - e.name.length - 1))];
  const read = new Set<string>();
  for (const dir of dirs) {
    const local = localPath(dir);
    if (local === undefined || read.has(path.resolve(local)) || !fs.existsSync(local)) continue;
    read.add(path.resolve(local));
    for (const name of fs.readdirSync(local)) {
      if (!name.startsWith(prefix) || !SAVEPOINT_NAME.test(name)) continue;
      const metadata = path.join(local, name, "_metadata");
      if (!fs.existsSync(metadata)) continue;
      const known = byName.get(name);
      if (known) {
        known.onDisk = true;
        continue;
      }
      // The folder's own time: set when _metadata was created in it, not changed by a rewrite of a file.
      const millis = fs.statSync(path.join(local, name)).mtimeMs;
      byName.set(name, { name, millis, path: joinUri(dir, name), time: new Date(millis).toISOString(), origin: null, jobId: null, restoredByLive: false, onDisk: true });
    }
  }
  for (const entry of byName.values()) {
    const local = localPath(entry.path);
    if (local !== undefined && entry.onDisk === undefined) entry.onDisk = fs.existsSync(path.join(local, "_metadata"));
    if (restoredByLive && nameOf(restoredByLive) === entry.name) entry.restoredByLive = true;
  }
  // A savepoint Flink still lists but whose local folder is gone was disposed of: not there any more.
  const entries = [...byName.values()].filter((e) => e.onDisk !== false).sort((a, b) => b.millis - a.millis);
  for (const e of entries) if (live === undefined) e.restoredByLive = null;
  const protectedNames = new Map<string, string>();
  const restored = entries.find((e) => e.restoredByLive === true);
  if (restored) protectedNames.set(restored.name, `the savepoint the live execution ${live!.jid} restored from`);
  if (entries[0]) protectedNames.set(entries[0].name, protectedNames.has(entries[0].name) ? `${protectedNames.get(entries[0].name)} and the newest completed savepoint` : "the newest completed savepoint");
  const localDirs = [...read];
  const note =
    `${entries.length} savepoint(s) of job '${ctx.jobName}': Flink lists them for the ${executions.length} execution(s) it still knows (it forgets an ended job after jobstore.expiration-time, 1 hour by default, ` +
    `and lists per execution its latest savepoint and those among its last web.checkpoints.history checkpoints, 10 by default)` +
    (localDirs.length ? `; the savepoint folders in ${localDirs.join(" and ")} were read too` : "; savepoints only on storage that is not a local (file://) directory are not listed") +
    ". origin is known for savepoints Flink still lists; restoredByLive is null when no execution runs.";
  return { entries, protectedNames, note };
}

/**
 * The action that wrote a savepoint: a SAVEPOINT was triggered; a SYNC_SAVEPOINT was a stop, and
 * Update's or Deploy's stop when the next execution of the job, which they mark in its JobID,
 * restored from it or started right after it.
 */
function originOf(
  checkpointType: string | undefined,
  externalPath: string,
  millis: number,
  exec: JobOverview,
  oldestFirst: JobOverview[],
  stats: Map<string, CheckpointStats | undefined>,
): SavepointEntry["origin"] {
  if (checkpointType === "SAVEPOINT") return "trigger";
  if (checkpointType !== "SYNC_SAVEPOINT") return null;
  const next = oldestFirst[oldestFirst.indexOf(exec) + 1];
  const by = next ? runOriginOf(next.jid) : undefined;
  if (next && (by === "update" || by === "deploy")) {
    const restored = stats.get(next.jid)?.latestRestored?.externalPath;
    if ((restored && nameOf(restored) === nameOf(externalPath)) || next.startTime - millis < UPGRADE_GAP_MS) return by;
  }
  return "stop";
}

/** POST /savepoint-disposal and its status until done. */
async function dispose(ctx: SavepointContext, savepointPath: string): Promise<{ ok: true } | { ok: false; failure: string }> {
  ctx.sent();
  const trigger = await ctx.api.disposeSavepoint(savepointPath, ctx.signal);
  const verdict = await ctx.waitFor(
    `waiting for the disposal of ${nameOf(savepointPath)}`,
    (s) => ctx.api.disposalStatus(trigger, s),
    (state): Verdict<true> =>
      state.status === "IN_PROGRESS"
        ? { done: false, seen: "disposal IN_PROGRESS" }
        : state.failure
          ? { done: true, ok: false, failure: state.failure, seen: "disposal FAILED" }
          : { done: true, ok: true, value: true, seen: "disposal COMPLETED" },
  );
  return verdict.ok ? { ok: true } : { ok: false, failure: verdict.failure };
}

function entryOf(k: Known): SavepointEntry {
  return { path: k.path, time: k.time, origin: k.origin, jobId: k.jobId, restoredByLive: k.restoredByLive };
}

/** FlinkSavepoint list: the history, newest first. */
export async function listSavepoints(ctx: SavepointContext, executions: JobOverview[], jobDirectory: string | undefined): Promise<ActionOutcome> {
  const { entries, note } = await savepointHistory(ctx, executions, jobDirectory);
  ctx.log.info(note);
  const exec = executions[0];
  return {
    actionResult: "SUCCESS",
    savepoints: entries.map(entryOf),
    job: { jobName: ctx.jobName, runId: "", ...(exec ? { jobId: exec.jid, jobStatus: exec.state } : {}), ...(entries[0] ? { lastSavepoint: entries[0].path } : {}), jobOutput: note },
  };
}

/** FlinkSavepoint dispose: one savepoint, never a protected one. */
export async function disposeSavepoint(ctx: SavepointContext, executions: JobOverview[], jobDirectory: string | undefined, nameOrPath: string): Promise<ActionOutcome> {
  const { entries, protectedNames } = await savepointHistory(ctx, executions, jobDirectory);
  const savepointPath = await resolveSavepoint(ctx, nameOrPath, jobDirectory, executions);
  const name = nameOf(savepointPath);
  const why = protectedNames.get(name);
  if (why) {
    throw new JobStateError(
      `Not disposing of ${savepointPath}: it is ${why} of job '${ctx.jobName}'. Protected now: ${[...protectedNames].map(([n, w]) => `${n} (${w})`).join(", ")}.`,
    );
  }
  const job = { jobName: ctx.jobName, runId: "", ...(executions[0] ? { jobId: executions[0].jid, jobStatus: executions[0].state } : {}) };
  const local = localPath(savepointPath);
  if (local !== undefined && !fs.existsSync(path.join(local, "_metadata"))) {
    // Disposed of already (a re-run after a failure, or by hand): nothing left to do.
    ctx.log.info(`${savepointPath} is not on disk (any more): nothing to dispose of.`);
    return { actionResult: "SUCCESS", job: { ...job, jobOutput: `${savepointPath} was already gone.` } };
  }
  if (!entries.some((e) => e.name === name)) ctx.log.warning(`${savepointPath} is not among the savepoints known for job '${ctx.jobName}'; disposing of it as asked.`);
  ctx.log.info(`Disposing of savepoint ${savepointPath}.`);
  const result = await dispose(ctx, savepointPath);
  if (!result.ok) return { actionResult: "FAILED", failure: `Flink could not dispose of ${savepointPath}: ${result.failure}`, job };
  return { actionResult: "SUCCESS", job: { ...job, jobOutput: `Disposed of ${savepointPath}.` } };
}

/**
 * FlinkSavepoint prune (and FlinkJobDeploy's retainSavepoints): dispose of every savepoint beyond
 * the newest `keepLast`, or older than `maxAgeDays`, never a protected one. A disposal that fails
 * is reported and the others go on; a second run finds nothing more to remove.
 */
export async function pruneSavepoints(
  ctx: SavepointContext,
  executions: JobOverview[],
  jobDirectory: string | undefined,
  retention: Retention,
): Promise<ActionOutcome> {
  const { entries, protectedNames } = await savepointHistory(ctx, executions, jobDirectory);
  const removable = chooseRemovals(entries, protectedNames, retention, Date.now());
  const removed: Known[] = [];
  const failed: string[] = [];
  for (const entry of removable) {
    ctx.log.info(`Disposing of savepoint ${entry.path}${entry.time ? ` (${entry.time})` : ""}.`);
    const result = await dispose(ctx, entry.path);
    if (result.ok) removed.push(entry);
    else {
      ctx.log.warning(`Could not dispose of ${entry.path}: ${result.failure}. Going on with the others.`);
      failed.push(`${entry.path}: ${result.failure}`);
    }
  }
  const kept = entries.filter((e) => !removed.includes(e));
  const text =
    `Kept ${kept.length}: ${kept.map((e) => `${e.name}${protectedNames.has(e.name) ? ` (${protectedNames.get(e.name)})` : ""}`).join(", ") || "none"}. ` +
    `Removed ${removed.length}: ${removed.map((e) => e.name).join(", ") || "none"}.` +
    (failed.length ? ` Could not remove ${failed.length}: ${failed.join(" | ")}.` : "");
  ctx.log.info(text);
  const job = { jobName: ctx.jobName, runId: "", ...(executions[0] ? { jobId: executions[0].jid, jobStatus: executions[0].state } : {}), jobOutput: text };
  return {
    actionResult: failed.length ? "FAILED" : "SUCCESS",
    savepoints: kept.map(entryOf),
    job,
    ...(failed.length ? { failure: `${failed.length} of ${removable.length} savepoint disposal(s) failed: ${failed.join(" | ")}` } : {}),
  };
}
