/**
 * FlinkSavepoint dispose on HDInsight on AKS: the job's savepoints as LIST_SAVEPOINT gives them,
 * the protected ones refused, then the savepoint's folder removed from storage through the Blob
 * API (savepoint-store.ts, reached through savepoint-storage.ts: the storage SDK is registered by
 * the FlinkSavepoint entry point and loaded only when a disposal runs).
 */
import { JobStateError } from "../../errors";
import type { SavepointStore } from "./savepoint-storage";
import type { ActionOutcome } from "../../jobs/backend";
import { silentLogger } from "../../util/logger";
import { currentRecord } from "./job-record";
import type { JobsApi } from "./jobs-api";
import { runAction, type RunActionOptions } from "./run-action";
import { savepointName, savepointsFromList } from "./savepoints";

export async function disposeHdInsightSavepoint(api: JobsApi, jobName: string, wanted: string, options: RunActionOptions, store: (() => Promise<SavepointStore>) | undefined): Promise<ActionOutcome> {
  const log = options.logger ?? silentLogger;
  if (!store) throw new Error("This task was built without savepoint storage (only FlinkSavepoint disposes of savepoints)");
  const listed = await runAction(api, { action: "LIST_SAVEPOINT", jobName, definition: {} }, { ...options, waitForCompletion: true });
  if (listed.actionResult !== "SUCCESS") {
    throw new JobStateError(`Listing the savepoints of job '${jobName}' ended ${listed.actionResult}: ${listed.record?.properties.jobOutput ?? "(no job output)"}; nothing was disposed of.`);
  }
  const record = listed.record ?? currentRecord(await api.listJobs({ jobName, signal: options.signal }), jobName);
  const paths = savepointsFromList(record?.properties.jobOutput);
  const name = savepointName(wanted);
  const path = paths.find((p) => savepointName(p) === name) ?? (wanted.includes("://") ? wanted : undefined);
  if (!path) throw new JobStateError(`Job '${jobName}' has no savepoint ${name}${paths.length ? `. Its savepoints: ${paths.join(", ")}` : " (its savepoint list is empty)"}.`);
  if (!path.includes("://")) throw new JobStateError(`The savepoint list of job '${jobName}' names ${path} without its storage folder; give savepointName as its full abfs[s]:// path.`);
  // The service tells neither which savepoint a running job restored from nor the times; its last
  // savepoint is the newest, and the one a START or UPDATE named is the live job's restore point.
  const p = record?.properties;
  const protectedPaths = new Map<string, string>();
  if (p?.lastSavePoint) protectedPaths.set(savepointName(p.lastSavePoint), "the job's last (newest) savepoint");
  const restoredFrom = p?.savePointName;
  if (restoredFrom && p?.status === "RUNNING") protectedPaths.set(savepointName(restoredFrom), "the savepoint the running job was started from");
  else if (p?.status === "RUNNING") {
    log.warning(
      "The job record does not say which savepoint the running job was started from, so that one cannot be kept out here: dispose of a savepoint only once the running job has completed a checkpoint after it.",
    );
  }
  const why = protectedPaths.get(name);
  if (why) throw new JobStateError(`Not disposing of ${path}: it is ${why} of job '${jobName}'. Protected now: ${[...protectedPaths].map(([n, w]) => `${n} (${w})`).join(", ")}.`);
  log.info(`Removing the folder of savepoint ${path} from storage through the Blob API.`);
  const removed = await (await store()).removeFolder(path, options.signal ?? new AbortController().signal);
  const text = removed ? `Removed ${path} (${removed} blob(s)).` : `${path} holds nothing in storage (already removed): nothing to do.`;
  log.info(text);
  return { actionResult: "SUCCESS", job: { jobName, runId: p?.runId ?? "", ...(p?.status ? { jobStatus: p.status } : {}), jobOutput: text } };
}
