import { CancelledError, JobStateError } from "../../errors";
import { type Logger, silentLogger } from "../../util/logger";
import { currentRecord } from "./job-record";
import type { JobsApi } from "./jobs-api";
import { runAction, type RunActionOptions } from "./run-action";
import { savepointName, savepointsFromList } from "./savepoints";

/** The check's own budget: it must not double the step's worst case. */
const CHECK_LIMIT_MS = 2 * 60_000;

/**
 * Before starting or updating from a named savepoint, make sure the job has it: a typo would
 * otherwise surface minutes later as a failed restore. The job's last savepoint needs no call;
 * any other is looked up with LIST_SAVEPOINT, a step of its own with a bounded wait (it becomes
 * the job's last action). When the list cannot be had or read, the action goes ahead with a
 * warning: our parser finding nothing is no reason to refuse.
 */
export async function checkSavepointExists(api: JobsApi, jobName: string, wanted: string, options: RunActionOptions): Promise<void> {
  const log: Logger = options.logger ?? silentLogger;
  const name = savepointName(wanted);
  const record = currentRecord(await api.listJobs({ jobName, signal: options.signal }), jobName);
  if (!record) return; // the action itself reports the missing job
  const last = record.properties.lastSavePoint;
  if (last && savepointName(last) === name) return;
  if (!options.waitForCompletion) {
    log.info(`Not checking that job '${jobName}' has the savepoint ${name}: listing savepoints means waiting, and waitForCompletion is false.`);
    return;
  }

  const limitMs = Math.min(CHECK_LIMIT_MS, Math.floor(options.timeoutMs / 2));
  log.info(`Step 1 of 2: checking that job '${jobName}' has the savepoint ${name} (LIST_SAVEPOINT, at most ${Math.round(limitMs / 1000)} s).`);
  let listed;
  try {
    listed = await runAction(api, { action: "LIST_SAVEPOINT", jobName, definition: {} }, { ...options, timeoutMs: limitMs, waitForCompletion: true });
  } catch (error) {
    if (error instanceof CancelledError || options.signal?.aborted) throw error;
    if (error instanceof JobStateError) throw error;
    log.warning(`Could not list the savepoints of job '${jobName}' (${(error as Error).message}); going ahead without the check.`);
    return;
  }
  if (listed.actionResult !== "SUCCESS") {
    log.warning(`Listing the savepoints of job '${jobName}' ended ${listed.actionResult}; going ahead without the check.`);
    return;
  }
  const output = listed.record?.properties.jobOutput ?? "";
  const paths = savepointsFromList(output);
  if (paths.some((p) => savepointName(p) === name)) return;
  if (!paths.length) {
    log.warning(
      output.trim()
        ? `The savepoint list of job '${jobName}' holds no path this task recognises; going ahead without the check. The list: ${output.slice(0, 500)}`
        : `The savepoint list of job '${jobName}' is empty; going ahead, and the cluster will say if ${name} is missing.`,
    );
    return;
  }
  throw new JobStateError(`Job '${jobName}' has no savepoint ${name}. Its savepoints: ${paths.join(", ")}.`);
}
