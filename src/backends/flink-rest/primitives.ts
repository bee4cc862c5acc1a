/**
 * The few calls every action on a Flink session cluster is made of, one implementation each, used
 * by the runJob actions (actions.ts) and by FlinkJobDeploy (deploy.ts): start a jar as an
 * execution with a JobID chosen here, stop with a savepoint, cancel. Each waits through the
 * caller's own wait loop (its deadline, schedule and progress messages), given as a Conduct.
 */
import { AmbiguousRequestError } from "../../errors";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import type { Logger } from "../../util/logger";
import { atLeast, type ClaimMode, type FlinkApi, type FlinkVersion, newTriggerId, runRequestBody, type SavepointFormat, savepointDirKey } from "./api";
import { FlinkRestError } from "./client";
import type { JobSettings } from "./identity";
import { judgeEnded, judgeTrigger, type Verdict } from "./judge";
import { runRefused, shortJarId } from "./messages";

/**
 * The first gap between two reads of a wait (it grows from there, src/jobs/polling.ts): a JobManager
 * answers a read in milliseconds and most actions end within a second or two, so a step ends within
 * a fifth of a second of Flink reporting it done, for a few reads more than a 1 s start would make.
 */
export const FLINK_FIRST_POLL_MS = 200;

/** The longest gap between two reads of a savepoint trigger, well within Flink's 5-minute result retention. */
export const TRIGGER_POLL_CAP_MS = 60_000;

type RunBody = ReturnType<typeof runRequestBody>;

/** How the caller talks to the cluster and waits. */
export interface Conduct {
  readonly api: FlinkApi;
  readonly log: Logger;
  /** The signal of the action under way (deadline and pipeline cancel). */
  signal(): AbortSignal;
  /** Observe → judge until a verdict, in the caller's wait loop. */
  waitFor<O, T>(phase: string, observe: (signal: AbortSignal) => Promise<O>, judge: (o: O) => Verdict<T>, schedule?: PollingSchedule): Promise<Exclude<Verdict<T>, { done: false }>>;
  /** An action on `jobId` is about to be sent (for the timeout and cancel messages); `run`: a new run, which Flink may not have until accepted(). */
  sending(phase: string, jobId: string, run?: boolean): void;
  /** Flink accepted the run of `jobId`: from now on the cluster has it. */
  accepted(jobId: string): void;
  /** The longest gap between two reads the step allows. */
  readonly maxPollIntervalMs: number;
}

/** A Conduct from the caller's options, signal, wait loop and (optionally) progress record. */
export function conductOf(
  api: FlinkApi,
  options: { logger: Logger; maxPollIntervalMs: number },
  signal: () => AbortSignal,
  waitFor: Conduct["waitFor"],
  sending: Conduct["sending"] = () => undefined,
  accepted: Conduct["accepted"] = () => undefined,
): Conduct {
  return { api, log: options.logger, maxPollIntervalMs: options.maxPollIntervalMs, signal, waitFor, sending, accepted };
}

/** The /run body: the job's settings and configuration, its name as pipeline.name, its savepoint directory. */
export function runBody(
  version: FlinkVersion,
  jobName: string,
  jobId: string,
  run: { settings: JobSettings; configuration: Record<string, string> | undefined },
  savepointPath: string | undefined,
  allowNonRestoredState: boolean,
  claimMode?: ClaimMode,
): RunBody {
  const config: Record<string, string> = { ...run.configuration };
  if (atLeast(version, 1, 17)) {
    config["pipeline.name"] = jobName;
    if (run.settings.savepointDirectory) config[savepointDirKey(version)] = run.settings.savepointDirectory;
  }
  return runRequestBody(version, {
    jobId,
    args: run.settings.args,
    ...(run.settings.entryClass ? { entryClass: run.settings.entryClass } : {}),
    ...(run.settings.parallelism !== undefined ? { parallelism: run.settings.parallelism } : {}),
    ...(savepointPath ? { savepointPath, allowNonRestoredState, ...(claimMode ? { claimMode } : {}) } : {}),
    flinkConfiguration: config,
  });
}

/**
 * POST /jars/:jarid/run once with the JobID chosen by the caller. A retry after an ambiguous
 * failure sends the same JobID, so Flink can never run it twice: "already submitted" means the
 * first got through. A refusal after Flink registered the job (a restore that fails as the
 * JobMaster starts) is the job's failure, read from the job: `runError`.
 */
export async function postRun(c: Conduct, jarId: string, jobId: string, body: RunBody): Promise<{ jobId: string; runError?: string } | { refused: string }> {
  c.sending("submitting the job", jobId, true);
  let runError: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      await c.api.run(jarId, body, c.signal());
      break;
    } catch (error) {
      if (error instanceof FlinkRestError && error.says("already been submitted")) {
        c.log.info(`Flink already has job ${jobId}: the earlier attempt got through.`);
        break;
      }
      if (error instanceof AmbiguousRequestError && attempt < 3) {
        c.log.warning(`${error.message}; sending the run again with the same JobID ${jobId}, which Flink accepts only once.`);
        await sleep(1000 * attempt, c.signal());
        continue;
      }
      if (error instanceof FlinkRestError) {
        if (await c.api.jobDetails(jobId, c.signal())) {
          runError = error.errors.join(" | ");
          break;
        }
        return { refused: runRefused(jarId, error.errors) };
      }
      throw error;
    }
  }
  c.log.info(`Flink accepted job ${jobId} (jar ${shortJarId(jarId)}${"savepointPath" in body ? `, restoring from ${String((body as { savepointPath?: unknown }).savepointPath)}` : ""}).`);
  c.accepted(jobId);
  return runError ? { jobId, runError } : { jobId };
}

/** Cancel and wait for CANCELED (409: the job had already ended); the state it ended in. */
export async function cancelAndWait(c: Conduct, jobId: string): Promise<string> {
  c.sending("sending the cancel", jobId);
  const answer = await c.api.cancel(jobId, c.signal());
  if (answer === "already-ended") c.log.info(`Job ${jobId} had already ended.`);
  const verdict = await c.waitFor("waiting for the job to be CANCELED", async (s) => (await c.api.jobOverview(jobId, s))?.state, (state) => judgeEnded(state, "CANCELED"));
  return verdict.ok ? verdict.value : "UNKNOWN";
}

/**
 * Waits on a stop or savepoint trigger sent at `sentAt`, read at least every minute whatever the
 * polling interval (Flink keeps the result 5 minutes; a trigger forgotten by a failover is judged
 * from the checkpoint statistics).
 */
export function savepointResult(c: Conduct, jobId: string, triggerId: string, sentAt: number): Promise<Exclude<Verdict<string>, { done: false }>> {
  const schedule = new PollingSchedule(Math.min(c.maxPollIntervalMs, TRIGGER_POLL_CAP_MS), FLINK_FIRST_POLL_MS);
  return c.waitFor("waiting for the savepoint", (s) => c.api.observeTrigger(jobId, triggerId, sentAt, s), judgeTrigger, schedule);
}

export type Stopped = { ok: true; location: string; state: string } | { ok: false; failure: string; state: string };

/** Sends a stop with a savepoint in `dir` (undefined: the cluster's default); resolves once Flink accepted it. */
export async function sendStop(c: Conduct, jobId: string, dir: string | undefined, formatType?: SavepointFormat): Promise<{ trigger: string; sentAt: number }> {
  c.sending("sending the stop", jobId);
  const sentAt = Date.now();
  const trigger = await c.api.stopWithSavepoint(jobId, dir, newTriggerId(), c.signal(), formatType);
  return { trigger, sentAt };
}

/** Stop with a savepoint in `dir` (undefined: the cluster's default) and wait for the job to end; on failure, the state the job is in. */
export async function stopWithSavepoint(c: Conduct, jobId: string, dir: string | undefined, formatType?: SavepointFormat): Promise<Stopped> {
  const { trigger, sentAt } = await sendStop(c, jobId, dir, formatType);
  const verdict = await savepointResult(c, jobId, trigger, sentAt);
  if (!verdict.ok) {
    const now = await c.api.jobDetails(jobId, c.signal());
    return { ok: false, failure: verdict.failure, state: now?.state ?? "no longer listed" };
  }
  const ended = await c.waitFor("waiting for the job to end", async (s) => (await c.api.jobOverview(jobId, s))?.state, (state) => judgeEnded(state, "FINISHED"));
  c.log.info(`Savepoint written: ${verdict.value}`);
  return { ok: true, location: verdict.value, state: ended.ok ? ended.value : "UNKNOWN" };
}
