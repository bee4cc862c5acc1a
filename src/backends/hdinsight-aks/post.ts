import type { ArmResponse } from "../../azure/arm-client";
import { AmbiguousRequestError, ArmError, JobStateError, RequestRefusedError } from "../../errors";
import type { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import type { Logger } from "../../util/logger";
import { ACTIONS } from "./actions";
import { type JudgeContext, ourRecord, showsAcceptance } from "./judge";
import type { JobsApi, RunJobBody } from "./jobs-api";
import { readDuringWait } from "./read-status";

export interface PostOptions {
  signal: AbortSignal;
  schedule: PollingSchedule;
  logger: Logger;
  /**
   * After an ambiguous POST (dropped connection, 5xx), how long to watch the job records for a
   * sign that the action was accepted before deciding. Default 30 s.
   */
  ambiguityWindowMs?: number;
  /** Counts every POST sent and keeps the accepted one's request id. */
  onPost: () => void;
  onAccepted: (response: ArmResponse) => void;
}

const MAX_POSTS = 3;
/** Answered refusals (429, 503) in a row before the step gives up and says what the service said. */
const MAX_REFUSALS = 2;

/**
 * Sends the runJob POST once, and again only when the records prove the first did not land.
 * Returns the response to follow, or undefined when the records show the action was accepted
 * (there is then no operation to follow: the job record is the only witness).
 */
export async function postAction(api: JobsApi, body: RunJobBody, context: JudgeContext, options: PostOptions): Promise<ArmResponse | undefined> {
  const { signal, logger: log } = options;
  const action = body.properties.action;
  let refusals = 0;
  for (let posts = 1; ; posts++) {
    options.onPost();
    let ambiguity: AmbiguousRequestError;
    try {
      const response = await api.runJob(body, signal);
      log.debug(`runJob answered ${response.status}; x-ms-request-id=${response.requestId ?? "-"}`);
      options.onAccepted(response);
      return response;
    } catch (error) {
      if (posts > 1 && error instanceof ArmError && error.status === 409) {
        // The service refuses an action while another runs on the record: ours, from the
        // earlier POST whose answer was lost.
        log.info(`The cluster answered 409 Conflict (${error.serviceMessage}): the earlier ${action} is under way; not posting it again.`);
        return undefined;
      }
      if (error instanceof RequestRefusedError && !signal.aborted) {
        if (++refusals > MAX_REFUSALS) throw error.refusal;
        if (await refusedThenLanded(api, context, error, options)) return undefined;
        continue;
      }
      if (!(error instanceof AmbiguousRequestError) || signal.aborted) throw error;
      ambiguity = error;
    }
    log.warning(`${ambiguity.message}. Checking the job record before doing anything else.`);
    if (await watchForAcceptance(api, context, options)) {
      log.info(`The job record shows that ${action} was accepted; not posting it again.`);
      return undefined;
    }
    const windowS = Math.round((options.ambiguityWindowMs ?? 30_000) / 1000);
    if (ACTIONS[action].createsRecord) {
      // A NEW that lands late would run the job twice: never post it blindly.
      throw new JobStateError(
        `${ambiguity.message}. No record of a new job '${body.properties.jobName}' appeared within ${windowS} s, but the cluster may still create it, ` +
          `so NEW was not posted again. Check with FlinkJobStatus (jobName '${body.properties.jobName}') before running this step again.`,
      );
    }
    if (posts >= MAX_POSTS) throw ambiguity;
    log.info(`No record of job '${body.properties.jobName}' shows ${action} after ${windowS} s; posting it again.`);
  }
}

/**
 * After an answered refusal: reads every record of the name for the window a record takes to be
 * listed (the service may have acted all the same), and at least the service's Retry-After
 * (bounded), before the next POST. True when a record shows the action was accepted.
 */
async function refusedThenLanded(api: JobsApi, context: JudgeContext, refusal: RequestRefusedError, options: PostOptions): Promise<boolean> {
  const { signal, logger: log } = options;
  const started = Date.now();
  log.warning(`The cluster refused ${context.action}: ${refusal.message}. Reading every record of job '${context.jobName}' before posting it again.`);
  if (await watchForAcceptance(api, context, options)) {
    log.info(`The job record shows that ${context.action} was accepted despite the refusal; not posting it again.`);
    return true;
  }
  const left = (refusal.retryAfterMs ?? 0) - (Date.now() - started);
  log.info(`No record of job '${context.jobName}' shows ${context.action}; posting it again${left > 0 ? ` in ${Math.round(left / 1000)} s (the service's Retry-After)` : ""}.`);
  if (left > 0) await sleep(left, signal);
  return false;
}

/** Reads every record of the name until one shows the action, or the window ends. */
async function watchForAcceptance(api: JobsApi, context: JudgeContext, options: PostOptions): Promise<boolean> {
  const deadline = Date.now() + (options.ambiguityWindowMs ?? 30_000);
  let absentReads = 0;
  while (Date.now() < deadline) {
    await sleep(Math.min(options.schedule.nextDelayMs(), 2_000, Math.max(0, deadline - Date.now())), options.signal);
    const records = await readDuringWait(api, context.jobName, options.signal, options.logger);
    if (!records) continue;
    if (showsAcceptance(context, records)) return true;
    if (ACTIONS[context.action].removesRecord) {
      // A record gone for two reads in a row was deleted; once may be a gap in the list.
      absentReads = ourRecord(context, records) ? 0 : absentReads + 1;
      if (absentReads >= 2) return true;
    }
  }
  return false;
}
