/**
 * FlinkJobDeploy on a Flink session cluster: the primitives src/jobs/deploy.ts drives.
 *
 * What runs is read from the execution itself: its JobID carries 8 hex of the jar's SHA-256 and 8
 * hex of its settings' digest (identity.ts newJobId), so the record (src/jobs/record.ts) never
 * takes the newest upload for what runs. The settings' values live with the jar on the cluster, in
 * its uploaded name: the settings, the jar's SHA-256 (`h`), the settings' digest (`s`), a digest of
 * the flinkConfiguration (`c`) and, as room allows, the configuration itself (`f`); what does not
 * fit is named in a warning (the inputs a later step must give again), never refused. The previous
 * jar stays on the cluster until the new version has passed its health check.
 */
import * as path from "node:path";
import { JobStateError } from "../../errors";
import type { DeployRequest, JobView, WaitOptions } from "../../jobs/backend";
import { Deadline, formatDuration } from "../../jobs/deadline";
import { type DeployOutcome, type DeployTarget, deploy, type Health, hashJar, type Started, type UpgradeMode } from "../../jobs/deploy";
import type { HealthNow, JobRecord } from "../../jobs/record";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import { type FlinkVersion, isLive, type JarFile, type JobOverview, savepointDirKey } from "./api";
import { FlinkRestActions, type FlinkRestContext } from "./actions";
import { cancelAndWait, type Conduct, conductOf, FLINK_FIRST_POLL_MS, postRun, runBody, stopWithSavepoint } from "./primitives";
import { AmbiguousJobError, findExecutions, type JobSettings, jarsOf, jarUploadNameFitting, newJobId, recordedFields, settingsDigest } from "./identity";
import { type FlinkRestInputs, resolveJarFile } from "./inputs";
import { describeDetails, judgeStarted, newestRestorePoint, type Verdict } from "./judge";
import { shortJarId } from "./messages";
import { FlinkWait, notKnownYet, type Settled } from "./wait";
import { checkpointCompletedSince, checkpointingOn, failureReport, readJob, restarts, type RunnableVersion } from "./observe";

/** A version of the job: a jar on the cluster and the settings it runs with. */
type Version = RunnableVersion;

export async function flinkRestDeploy(ctx: FlinkRestContext, request: DeployRequest<FlinkRestInputs>, options: WaitOptions): Promise<DeployOutcome> {
  const { inputs, jobName } = request;
  // Local work first: a pattern matching none or two fails before any call.
  const file = resolveJarFile("jarFile", inputs.jarFile!, ctx.workingDirectory);
  const settings: JobSettings = {
    args: inputs.args ?? [],
    ...(inputs.entryClass ? { entryClass: inputs.entryClass } : {}),
    ...(inputs.parallelism !== undefined ? { parallelism: inputs.parallelism } : {}),
    ...(inputs.savepointDirectory ? { savepointDirectory: inputs.savepointDirectory } : {}),
  };
  const jar = await hashJar(file);
  const digest = settingsDigest(settings, inputs.flinkConfiguration);
  const upload = jarUploadNameFitting(jobName, settings, path.basename(file.path), recordedFields(jar.sha256, settings, inputs.flinkConfiguration));
  const deadline = new Deadline(options.timeoutMs, options.signal);
  try {
    const target = new FlinkRestDeployTarget(ctx, options, deadline, jobName, inputs, { jarId: "", settings, configuration: inputs.flinkConfiguration, runs: { jarSha256: jar.sha256, settingsDigest: digest } }, file.path, upload, request.deploy.healthCheckSeconds * 1000);
    const outcome = await deploy(target, jar, request.deploy, jobName, options.logger, options.waitForCompletion);
    if (outcome.actionResult === "SUCCESS" && inputs.retention) await new FlinkRestActions(ctx, options, jobName).retainSavepoints(inputs);
    return outcome;
  } finally {
    deadline.dispose();
  }
}

class FlinkRestDeployTarget implements DeployTarget {
  readonly wantedSettings: string;
  private version!: FlinkVersion;
  private jars: JarFile[] = [];
  private live?: JobOverview;
  /** The live execution's health as read(): an unhealthy one is not asked for a savepoint. */
  private liveHealth?: HealthNow;
  private previous?: Version;
  private uploaded?: string;
  private readonly uploadName: string;
  private phase = "reading the job";
  private clusterConfigCache?: Record<string, string>;
  private readonly wait: FlinkWait;

  constructor(
    private readonly ctx: FlinkRestContext,
    private readonly options: WaitOptions,
    private readonly deadline: Deadline,
    private readonly jobName: string,
    private readonly inputs: FlinkRestInputs,
    /** The version this step deploys (its jarId is known once uploaded). */
    private readonly wanted: Version,
    private readonly jarPath: string,
    private readonly upload_: { name: string; dropped: string[] },
    /** The health check's window: a failure within it makes a live execution unhealthy now. */
    private readonly healthWindowMs: number,
  ) {
    this.wantedSettings = wanted.runs.settingsDigest!;
    this.uploadName = upload_.name;
    this.wait = new FlinkWait({ deadline, logger: options.logger, onProgress: (seen) => options.onProgress?.(seen, this.phase) });
  }

  remainingMs(): number {
    return this.deadline.remainingMs();
  }

  /** The primitives' view of this deployment: its signal and wait loop. */
  private get conduct(): Conduct {
    return conductOf(this.api, this.options, () => this.signal, (_phase, observe, judge, schedule) => this.waitFor(observe, judge, this.signal, schedule));
  }

  private get api() {
    return this.ctx.api;
  }
  private get signal() {
    return this.deadline.signal;
  }
  private get log() {
    return this.options.logger;
  }

  /** A cancel or a spent budget becomes an error that says so, naming the phase. */
  private async guarded<T>(phase: string, body: () => Promise<T>): Promise<T> {
    this.phase = phase;
    try {
      return await body();
    } catch (error) {
      throw this.deadline.interruption(this.phase) ?? (error instanceof AmbiguousJobError ? new JobStateError(error.message) : error);
    }
  }

  /** The shared wait (wait.ts): rides through outages until the step's deadline; `signal` may be a phase's own, shorter one. */
  private waitFor<O, T>(
    observe: (signal: AbortSignal) => Promise<O>,
    judge: (o: O) => Verdict<T>,
    signal = this.signal,
    schedule = new PollingSchedule(this.options.maxPollIntervalMs, FLINK_FIRST_POLL_MS),
  ): Promise<Settled<T>> {
    return this.wait.until(observe, judge, schedule, signal);
  }

  private view(jobId: string | undefined, state: string | undefined, jarId?: string): JobView {
    return { jobName: this.jobName, runId: "", ...(jobId ? { jobId } : {}), ...(state ? { jobStatus: state } : {}), ...(jarId ? { jarId } : {}) };
  }

  private async clusterConfig(): Promise<Record<string, string>> {
    this.clusterConfigCache ??= await this.api.clusterConfig(this.signal);
    return this.clusterConfigCache;
  }

  read() {
    return this.guarded("reading the job", async (): Promise<JobRecord> => {
      const seen = await readJob(this.api, this.ctx.where, this.jobName, this.signal, this.healthWindowMs);
      this.version = seen.version;
      this.jars = seen.jars;
      this.live = seen.live;
      this.liveHealth = seen.record.health;
      if (seen.ran) this.previous = seen.ran;
      return seen.record;
    });
  }

  upload() {
    return this.guarded("uploading the jar", async () => {
      const { openAsBlob } = await import("node:fs");
      const blob = await openAsBlob(this.jarPath, { type: "application/x-java-archive" });
      this.uploaded = await this.api.uploadJar(blob, this.uploadName, this.signal);
      this.log.info(`Uploaded ${path.basename(this.jarPath)} as jar ${shortJarId(this.uploaded)}.`);
      if (this.upload_.dropped.length) {
        this.log.warning(
          `The job's ${this.upload_.dropped.join(", ")} ${this.upload_.dropped.length > 1 ? "are" : "is"} too long to keep with its jar on the cluster: this run uses them, but a later FlinkJobStart or FlinkJobUpdate without jarFile, or a rollback to this version, must be given ${this.upload_.dropped.join(", ")} again.`,
        );
      }
      return { jarId: this.uploaded };
    });
  }

  submit(restoreFrom: string | undefined) {
    return this.guarded("starting the job", () => this.run({ ...this.wanted, jarId: this.uploaded! }, restoreFrom, this.inputs.allowNonRestoredState));
  }

  upgrade(mode: UpgradeMode, onStopped: (previousSavepoint: string | undefined) => void) {
    return this.guarded("stopping the running version", async () => {
      const exec = this.live!;
      let from: string | undefined;
      if (mode === "lastState") {
        if ((await this.api.checkpointsRetainedOnCancel(exec.jid, this.signal)) === false) {
          throw new JobStateError(
            `lastState upgrade of job '${this.jobName}': its checkpoints are deleted when it is cancelled, so there would be no state to restart from. Set execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION, or use upgradeMode 'savepoint'. The running version was left running.`,
          );
        }
        await this.cancelAndWait(exec.jid);
        const point = newestRestorePoint(await this.api.finalCheckpoints(exec.jid, this.signal));
        from = point?.externalPath;
        onStopped(from);
        if (!from) throw new JobStateError(`Job ${exec.jid} was cancelled, but Flink lists no retained checkpoint or savepoint of it to restart from (is checkpointing enabled?)`);
        this.log.info(`Restarting from ${point!.isSavepoint ? "savepoint" : "checkpoint"} ${point!.id}: ${from}`);
      } else {
        const dir = await this.savepointDir();
        if (dir === undefined && mode === "savepoint") {
          throw new JobStateError(
            `No savepoint directory for job '${this.jobName}': give 'savepointDirectory', or configure ${savepointDirKey(this.version)} on the cluster. The running version was left running.`,
          );
        }
        if (mode === "stateless" && !this.liveHealth?.healthy) {
          // A job that is not healthy cannot be trusted to take a savepoint, and a stateless upgrade needs none.
          this.log.warning(`Job ${exec.jid} is not healthy (${this.liveHealth?.evidence ?? exec.state}), so it is cancelled without a savepoint.`);
          await this.cancelAndWait(exec.jid);
          onStopped(undefined);
        } else if (dir === undefined) {
          // Stateless with nowhere to write a savepoint: the rollback, too, would start without state.
          this.log.warning(`No savepoint directory: the running version is cancelled without a savepoint, and a rollback would start it without state.`);
          await this.cancelAndWait(exec.jid);
          onStopped(undefined);
        } else {
          from = await this.stopWithSavepoint(exec.jid, dir || undefined);
          onStopped(from);
        }
      }
      this.phase = "starting the new version";
      const version = { ...this.wanted, jarId: this.uploaded! };
      return this.run(version, mode === "stateless" ? undefined : from, this.inputs.allowNonRestoredState);
    });
  }

  /** The savepoint directory: the input, the job's recorded one, or "" for the cluster's default; undefined when none. */
  private async savepointDir(): Promise<string | undefined> {
    const own = this.inputs.savepointDirectory ?? this.previous?.settings.savepointDirectory;
    if (own) return own;
    const config = await this.clusterConfig();
    return config["execution.checkpointing.savepoint-dir"] ?? config["state.savepoints.dir"] ? "" : undefined;
  }

  private async stopWithSavepoint(jobId: string, dir: string | undefined): Promise<string> {
    this.log.info(`Stopping job '${this.jobName}' (${jobId}) with a savepoint.`);
    const stopped = await stopWithSavepoint(this.conduct, jobId, dir, this.inputs.savepointFormat);
    if (!stopped.ok) {
      throw new JobStateError(
        `stop-with-savepoint of job ${jobId} failed: ${stopped.failure}. The running version is ${stopped.state}; nothing new was started.` +
          (stopped.state !== "RUNNING" ? " A job that is not RUNNING cannot take a savepoint: upgrade it with upgradeMode 'lastState' (from its newest retained checkpoint) or 'stateless'." : ""),
      );
    }
    return stopped.location;
  }

  private cancelAndWait(jobId: string): Promise<string> {
    return cancelAndWait(this.conduct, jobId);
  }

  /** Starts `version` as a new execution whose JobID says what it runs. */
  private async run(version: Version, savepointPath: string | undefined, allowNonRestoredState: boolean): Promise<Started> {
    const jobId = newJobId(this.jobName, version.runs, "deploy");
    if (!version.configuration) this.log.warning(`The configuration jar ${version.jarId} ran with was too long to keep with it: it runs now with the cluster's configuration only.`);
    const posted = await postRun(this.conduct, version.jarId, jobId, runBody(this.version, this.jobName, jobId, version, savepointPath, allowNonRestoredState, this.inputs.claimMode));
    // Registered before main() failed (a restore that fails at start): the health check reads the job's failure.
    if ("refused" in posted) throw new JobStateError(posted.refused);
    return { job: this.view(jobId, "INITIALIZING", version.jarId) };
  }

  health(started: Started, seconds: number, budgetMs: number) {
    return this.guarded("checking the new version's health", async (): Promise<Health> => {
      const jobId = started.job.jobId!;
      let last: string | undefined;
      const failed = async (what: string, state: string | undefined): Promise<Health> => ({ healthy: false, report: await failureReport(this.api, jobId, what, this.signal), job: { ...started.job, ...((state ?? last) ? { jobStatus: state ?? last } : {}) } });
      // This phase's own budget: what is left of the step, less the time a rollback needs.
      // (A Deadline, not AbortSignal.timeout: a timeout signal only held by AbortSignal.any can be collected before it fires.)
      const budget = new Deadline(budgetMs, this.signal);
      const phase = budget.signal;
      let seen = "not yet listed by Flink";
      try {
        const first = await this.waitFor(
          (s) => this.api.jobOverview(jobId, s),
          (details) => {
            last = details?.state ?? last;
            const verdict = judgeStarted(details);
            seen = verdict.seen;
            return verdict;
          },
          phase,
        );
        if (!first.ok) return failed(first.failure, (await this.api.jobDetails(jobId, this.signal))?.state);
        const runningSince = Date.now();
        const { value: checkpointing } = (await this.waitFor((s) => checkpointingOn(this.api, jobId, s), (on): Verdict<boolean> => ({ done: true, ok: true, value: on, seen }), phase)) as { value: boolean };
        this.log.info(`Job ${jobId} is RUNNING; watching it for ${seconds} s${checkpointing ? " and for a completed checkpoint" : ""}.`);
        const schedule = new PollingSchedule(this.options.maxPollIntervalMs);
        const what = `the health check (RUNNING, no restart${checkpointing ? ", a completed checkpoint" : ""})`;
        for (;;) {
          // One look at the job; a cluster out of reach (a JobManager failover, an ingress reload) is not known yet, until the budget ends.
          const look = await this.wait.once(async (s) => {
            const details = await this.api.jobDetails(jobId, s);
            if (details?.state !== "RUNNING" || details.vertices.some((v) => v.status !== "RUNNING")) return { details };
            const restartCount = await restarts(this.api, jobId, s);
            const checkpointed = !checkpointing || (await checkpointCompletedSince(this.api, jobId, s));
            // An unreadable exception history is no evidence either way (only an outage is waited through).
            const root = Date.now() - runningSince >= seconds * 1000 && checkpointed ? await this.api.rootException(jobId, s).catch((e: unknown) => (notKnownYet(e) ? Promise.reject(e) : undefined)) : undefined;
            return { details, restartCount, checkpointed, root };
          }, phase);
          if (!look.answered) {
            this.options.onProgress?.(this.wait.lastSeen, what);
            await sleep(schedule.nextDelayMs(), phase);
            continue;
          }
          const { details, restartCount, checkpointed, root } = look.value;
          last = details?.state ?? last;
          if (details?.state !== "RUNNING") return failed(`the job left RUNNING: ${details ? describeDetails(details) : "no longer listed"}`, details?.state);
          seen = describeDetails(details);
          this.wait.answered(seen);
          if (details.vertices.some((v) => v.status !== "RUNNING")) return failed(`not every task stayed RUNNING: ${seen}`, details.state);
          if (restartCount) return failed(`the job restarted ${restartCount} time(s) (${seen})`, details.state);
          const elapsed = Date.now() - runningSince;
          if (elapsed >= seconds * 1000 && checkpointed) {
            if (root) return failed(`the job reports a root exception`, details.state);
            return {
              healthy: true,
              seen: `RUNNING for ${Math.round(elapsed / 1000)} s with every task RUNNING (${seen}), without a restart${checkpointing ? ", a checkpoint completed after the start" : ", checkpointing off"}, no root exception`,
              job: { ...started.job, jobStatus: details.state },
            };
          }
          this.options.onProgress?.(
            `job ${jobId} RUNNING without a restart for ${Math.round(elapsed / 1000)} of ${seconds} s (${Math.max(0, Math.round((seconds * 1000 - elapsed) / 1000))} s to go)${checkpointing ? (checkpointed ? ", a checkpoint completed" : ", no checkpoint completed yet") : ""}`,
            what,
          );
          const left = seconds * 1000 - elapsed;
          await sleep(left > 0 ? Math.min(schedule.nextDelayMs(), left) : schedule.nextDelayMs(), phase);
        }
      } catch (error) {
        if (!budget.timedOut) throw error;
        return failed(`not healthy within its ${formatDuration(Math.round(budgetMs / 1000) * 1000)} (the step's budget less the time kept for a rollback); last seen: ${seen}`, undefined);
      } finally {
        budget.dispose();
      }
    });
  }

  rollback(failed: Started | undefined, savepoint: string | undefined) {
    return this.guarded("rolling back", async () => {
      const failedId = failed?.job.jobId;
      const now = failedId ? await this.api.jobDetails(failedId, this.signal) : undefined;
      if (failedId && now && isLive(now.state)) {
        this.log.info(`Cancelling the failed version (${failedId}, ${now.state}).`);
        await this.cancelAndWait(failedId);
      }
      // The artifact the live execution ran before the upgrade, as its JobID said: never a jar that never ran.
      const previous = this.previous!;
      this.phase = "starting the previous version";
      const back = await this.run(previous, savepoint, false);
      if (this.uploaded && this.uploaded !== previous.jarId) await this.api.deleteJar(this.uploaded, this.signal).catch(() => undefined);
      return back;
    });
  }

  commit() {
    return this.guarded("removing the job's older jars", async () => {
      for (const old of jarsOf(this.jars, this.jobName).filter((j) => j.id !== this.uploaded)) {
        await this.api.deleteJar(old.id, this.signal).then(
          () => this.log.debug(`Removed the job's older jar ${old.id}.`),
          (error: Error) => this.log.warning(`Could not remove the job's older jar ${old.id}: ${error.message}`),
        );
      }
    });
  }

  async whereNow(): Promise<string> {
    try {
      // A signal of its own: after a cancel the step's signal is already aborted.
      const signal = AbortSignal.timeout(15_000);
      const found = findExecutions(await this.api.jobsOverview(signal), this.jobName);
      const live = found.executions.filter((e) => isLive(e.state));
      const newest = found.executions[0];
      if (live.length) return live.map((e) => `execution ${e.jid} is ${e.state}`).join("; ");
      return newest ? `no execution of job '${this.jobName}' is running (the newest, ${newest.jid}, is ${newest.state})` : `no execution of job '${this.jobName}' is running`;
    } catch (error) {
      return `unknown: the job could not be read (${(error as Error).message})`;
    }
  }
}
