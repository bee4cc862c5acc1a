import { JobStateError } from "../errors";
import { type Logger, silentLogger } from "../util/logger";
import { latestRecord } from "./job-record";
import type { FlinkJobsApi } from "./jobs-api";
import { runAction, type RunActionOptions } from "./run-action";
import { savepointName, savepointsFromList } from "./savepoints";

/**
 * Before starting or updating from a named savepoint, make sure the job has it: a typo would
 * otherwise surface minutes later as a failed restore. The job's last savepoint needs no call;
 * any other is looked up with LIST_SAVEPOINT. When the list cannot be had, the action goes ahead.
 */
export async function checkSavepointExists(api: FlinkJobsApi, jobName: string, wanted: string, options: RunActionOptions): Promise<void> {
  const log: Logger = options.logger ?? silentLogger;
  const name = savepointName(wanted);
  const records = await api.listJobs({ jobName, signal: options.signal });
  const last = latestRecord(records, jobName)?.properties.lastSavePoint;
  if (last && savepointName(last) === name) return;
  if (!latestRecord(records, jobName)) return; // the action itself reports the missing job

  log.info(`Checking that job '${jobName}' has the savepoint ${name} (LIST_SAVEPOINT).`);
  const listed = await runAction(api, { action: "LIST_SAVEPOINT", jobName, definition: {} }, { ...options, waitForCompletion: true }).catch((error: unknown) => {
    log.warning(`Could not list the savepoints of job '${jobName}' (${(error as Error).message}); going ahead without the check.`);
    return undefined;
  });
  if (!listed || listed.actionResult !== "SUCCESS") {
    if (listed) log.warning(`Listing the savepoints of job '${jobName}' ended ${listed.actionResult}; going ahead without the check.`);
    return;
  }
  const paths = savepointsFromList(listed.record?.properties.jobOutput);
  if (paths.some((p) => savepointName(p) === name)) return;
  throw new JobStateError(
    paths.length
      ? `Job '${jobName}' has no savepoint ${name}. Its savepoints: ${paths.join(", ")}.`
      : `Job '${jobName}' has no savepoint ${name}: it has no savepoints at all. Stop the job or trigger a savepoint first.`,
  );
}
