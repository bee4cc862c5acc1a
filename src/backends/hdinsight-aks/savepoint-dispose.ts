/**
 * FlinkSavepoint dispose and prune on HDInsight on AKS: the job's savepoints as LIST_SAVEPOINT
 * gives them, the protected ones refused, then savepoint folders removed from storage through the
 * Blob API (savepoint-store.ts, registered through savepoint-storage.ts).
 */
import { JobStateError } from "../../errors";
import type { ActionOutcome, SavepointEntry } from "../../jobs/backend";
import { chooseRemovals, type Retention } from "../../jobs/savepoint-retention";
import { silentLogger } from "../../util/logger";
import { currentRecord } from "./job-record";
import type { JobsApi } from "./jobs-api";
import { runAction, type RunActionOptions } from "./run-action";
import type { SavepointStore } from "./savepoint-storage";
import { savepointName, savepointsFromList } from "./savepoints";

/** The job's record and savepoints as LIST_SAVEPOINT gives them, and those never to be removed. */
async function listWithProtected(api: JobsApi, jobName: string, options: RunActionOptions, doing: string) {
  const log = options.logger ?? silentLogger;
  const listed = await runAction(api, { action: "LIST_SAVEPOINT", jobName, definition: {} }, { ...options, waitForCompletion: true });
  if (listed.actionResult !== "SUCCESS") {
    throw new JobStateError(`Listing the savepoints of job '${jobName}' ended ${listed.actionResult}: ${listed.record?.properties.jobOutput ?? "(no job output)"}; nothing was ${doing}.`);
  }
  const record = listed.record ?? currentRecord(await api.listJobs({ jobName, signal: options.signal }), jobName);
  const paths = savepointsFromList(record?.properties.jobOutput);
  // The service tells neither which savepoint a running job restored from nor the times; its last
  // savepoint is the newest, and the one a START or UPDATE named is the live job's restore point.
  const p = record?.properties;
  const protectedNames = new Map<string, string>();
  if (p?.lastSavePoint) protectedNames.set(savepointName(p.lastSavePoint), "the job's last (newest) savepoint");
  const restoredFrom = p?.savePointName;
  if (restoredFrom && p?.status === "RUNNING") protectedNames.set(savepointName(restoredFrom), "the savepoint the running job was started from");
  else if (p?.status === "RUNNING") {
    log.warning(
      `The job record does not say which savepoint the running job was started from, so that one cannot be kept out here: ${doing === "disposed of" ? "dispose of a savepoint" : "prune"} only once the running job has completed a checkpoint after it.`,
    );
  }
  const job = { jobName, runId: p?.runId ?? "", ...(p?.status ? { jobStatus: p.status } : {}) };
  return { paths, protectedNames, job };
}

function showProtected(protectedNames: Map<string, string>): string {
  return [...protectedNames].map(([n, w]) => `${n} (${w})`).join(", ");
}

export async function disposeHdInsightSavepoint(api: JobsApi, jobName: string, wanted: string, options: RunActionOptions, store: (() => Promise<SavepointStore>) | undefined): Promise<ActionOutcome> {
  const log = options.logger ?? silentLogger;
  if (!store) throw new Error("This task was built without savepoint storage (only FlinkSavepoint disposes of savepoints)");
  const { paths, protectedNames, job } = await listWithProtected(api, jobName, options, "disposed of");
  const name = savepointName(wanted);
  const path = paths.find((p) => savepointName(p) === name) ?? (wanted.includes("://") ? wanted : undefined);
  if (!path) throw new JobStateError(`Job '${jobName}' has no savepoint ${name}${paths.length ? `. Its savepoints: ${paths.join(", ")}` : " (its savepoint list is empty)"}.`);
  if (!path.includes("://")) throw new JobStateError(`The savepoint list of job '${jobName}' names ${path} without its storage folder; give savepointName as its full abfs[s]:// path.`);
  const why = protectedNames.get(name);
  if (why) throw new JobStateError(`Not disposing of ${path}: it is ${why} of job '${jobName}'. Protected now: ${showProtected(protectedNames)}.`);
  log.info(`Removing the folder of savepoint ${path} from storage through the Blob API.`);
  const removed = await (await store()).removeFolder(path, options.signal ?? new AbortController().signal);
  const text = removed ? `Removed ${path} (${removed} blob(s)).` : `${path} holds nothing in storage (already removed): nothing to do.`;
  log.info(text);
  return { actionResult: "SUCCESS", job: { ...job, jobOutput: text } };
}

/**
 * FlinkSavepoint prune (and FlinkJobDeploy's retainSavepoints) on HDInsight on AKS: the job's
 * savepoints from LIST_SAVEPOINT, each dated by its `_metadata` blob (one whose `_metadata` is gone
 * was removed already), then every one beyond the newest `keepLast` or older than `maxAgeDays`
 * removed folder by folder, never a protected one. A removal that fails is reported and the others
 * go on; a second run finds nothing more to remove.
 */
export async function pruneHdInsightSavepoints(
  api: JobsApi,
  jobName: string,
  retention: Retention,
  options: RunActionOptions,
  store: (() => Promise<SavepointStore>) | undefined,
): Promise<ActionOutcome> {
  const log = options.logger ?? silentLogger;
  if (!store) throw new Error("This task was built without savepoint storage (only FlinkSavepoint and FlinkJobDeploy prune savepoints)");
  const signal = options.signal ?? new AbortController().signal;
  const { paths, protectedNames, job } = await listWithProtected(api, jobName, options, "removed");
  const storage = await store();
  const dated: Array<SavepointEntry & { name: string; millis: number; listed: number }> = [];
  let gone = 0;
  for (const [listed, path] of paths.entries()) {
    if (!path.includes("://")) {
      log.warning(`The savepoint list of job '${jobName}' names ${path} without its storage folder: it is left alone.`);
      continue;
    }
    const millis = await storage.completedAt(path, signal);
    if (millis === undefined) {
      gone++;
      continue;
    }
    dated.push({ name: savepointName(path), millis, listed, path, time: new Date(millis).toISOString(), origin: null, jobId: null, restoredByLive: null });
  }
  // Newest first; the service lists in the order it took them, which settles equal times.
  dated.sort((a, b) => b.millis - a.millis || b.listed - a.listed);
  const removable = chooseRemovals(dated, protectedNames, retention, Date.now());
  const removed: typeof dated = [];
  const failed: string[] = [];
  for (const entry of removable) {
    log.info(`Removing the folder of savepoint ${entry.path} (${entry.time}) from storage through the Blob API.`);
    try {
      const blobs = await storage.removeFolder(entry.path, signal);
      log.info(`Removed ${entry.path} (${blobs} blob(s)).`);
      removed.push(entry);
    } catch (error) {
      if (signal.aborted) throw error;
      log.warning(`Could not remove ${entry.path}: ${(error as Error).message}. Going on with the others.`);
      failed.push(`${entry.path}: ${(error as Error).message}`);
    }
  }
  const kept = dated.filter((e) => !removed.includes(e));
  const text =
    `Kept ${kept.length}: ${kept.map((e) => `${e.name}${protectedNames.has(e.name) ? ` (${protectedNames.get(e.name)})` : ""}`).join(", ") || "none"}. ` +
    `Removed ${removed.length}: ${removed.map((e) => e.name).join(", ") || "none"}.` +
    (failed.length ? ` Could not remove ${failed.length}: ${failed.join(" | ")}.` : "") +
    (gone ? ` ${gone} listed savepoint(s) have no _metadata in storage any more (removed before).` : "");
  log.info(text);
  return {
    actionResult: failed.length ? "FAILED" : "SUCCESS",
    savepoints: kept.map(({ path, time, origin, jobId, restoredByLive }) => ({ path, time, origin, jobId, restoredByLive })),
    job: { ...job, jobOutput: text },
    ...(failed.length ? { failure: `${failed.length} of ${removable.length} savepoint removal(s) failed: ${failed.join(" | ")}` } : {}),
  };
}
