/**
 * FlinkJobDeploy on a Flink session cluster: the primitives src/jobs/deploy.ts drives.
 *
 * What a deployment must remember across pipeline runs lives where the other Flink REST tasks keep
 * it, in the uploaded jar's name (identity.ts): the settings, plus the jar's SHA-256 (`h`), a
 * digest of the job's flinkConfiguration (`c`) and, when it fits in a file name, the configuration
 * itself (`f`). So a re-run compares without re-uploading, and a rollback starts the previous jar
 * with the settings it ran with. The previous jar stays on the cluster until the new version has
 * passed its health check.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { AmbiguousRequestError, CancelledError, InputError, JobStateError, WaitTimeoutError } from "../../errors";
import type { DeployRequest, JobView, WaitOptions } from "../../jobs/backend";
import { Deadline, formatDuration } from "../../jobs/deadline";
import { type DeployOutcome, type DeployTarget, deploy, type Health, hashJar, type Started, type UpgradeMode } from "../../jobs/deploy";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import { atLeast, type FlinkVersion, isLive, type JarFile, type JobOverview, newTriggerId, OLDEST_SUPPORTED, runRequestBody, savepointDirKey } from "./api";
import { FlinkRestActions, type FlinkRestContext } from "./actions";
import { FlinkRestError } from "./client";
import { AmbiguousJobError, findExecutions, jarNameFields, type JobSettings, jarsOf, jarUploadName, newJobId, SettingsTooLongError } from "./identity";
import { type FlinkRestInputs, resolveJarFile } from "./inputs";
import { describeDetails, judgeEnded, judgeStarted, judgeTrigger, newestRestorePoint, type Verdict } from "./judge";

/** A version of the job: a jar on the cluster and the settings it runs with. */
interface Version {
  jarId: string;
  settings: JobSettings;
  /** Undefined: the version's configuration was too long to keep with its jar. */
  configuration: Record<string, string> | undefined;
}

/** A short digest of a flinkConfiguration, whatever the order of its keys. */
function configDigest(configuration: Record<string, string>): string {
  const sorted = Object.entries(configuration).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(sorted)).digest().subarray(0, 9).toString("base64url");
}

/** The comparable text of a version's settings: equal text, same job definition. */
function settingsText(settings: JobSettings, configurationDigest: string): string {
  return JSON.stringify({ entryClass: settings.entryClass ?? null, args: settings.args, parallelism: settings.parallelism ?? null, savepointDirectory: settings.savepointDirectory ?? null, configuration: configurationDigest });
}

const hexToB64 = (hex: string) => Buffer.from(hex, "hex").toString("base64url");
const b64ToHex = (b64: string) => Buffer.from(b64, "base64url").toString("hex");

export async function flinkRestDeploy(ctx: FlinkRestContext, request: DeployRequest<FlinkRestInputs>, options: WaitOptions): Promise<DeployOutcome> {
  const { inputs, jobName } = request;
  // Local work first: a pattern matching none or two, or settings too long to record, fail before any call.
  const file = resolveJarFile("jarFile", inputs.jarFile!, ctx.workingDirectory);
  const settings: JobSettings = {
    args: inputs.args ?? [],
    ...(inputs.entryClass ? { entryClass: inputs.entryClass } : {}),
    ...(inputs.parallelism !== undefined ? { parallelism: inputs.parallelism } : {}),
    ...(inputs.savepointDirectory ? { savepointDirectory: inputs.savepointDirectory } : {}),
  };
  const jar = await hashJar(file);
  let uploadName: string;
  const recorded = { h: hexToB64(jar.sha256), c: configDigest(inputs.flinkConfiguration) };
  try {
    try {
      uploadName = jarUploadName(jobName, settings, path.basename(file.path), { ...recorded, f: inputs.flinkConfiguration });
    } catch (error) {
      if (!(error instanceof SettingsTooLongError)) throw error;
      uploadName = jarUploadName(jobName, settings, path.basename(file.path), recorded);
      options.logger.warning(
        "flinkConfiguration is too long to keep with the jar on the cluster (only its digest is kept): a later rollback to this version would start it without these settings.",
      );
    }
  } catch (error) {
    if (error instanceof SettingsTooLongError) {
      throw new InputError(
        Object.keys(inputs.flinkConfiguration).length ? "flinkConfiguration" : "args",
        `the job's settings (entryClass, args, parallelism, savepointDirectory, flinkConfiguration) are too long to keep with its jar on the cluster (${error.message}); shorten them`,
      );
    }
    throw error;
  }
  const deadline = new Deadline(options.timeoutMs, options.signal);
  try {
    const target = new FlinkRestDeployTarget(ctx, options, deadline, jobName, inputs, settings, file.path, uploadName);
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
  private previous?: Version;
  private uploaded?: string;
  private phase = "reading the job";
  private clusterConfigCache?: Record<string, string>;

  constructor(
    private readonly ctx: FlinkRestContext,
    private readonly options: WaitOptions,
    private readonly deadline: Deadline,
    private readonly jobName: string,
    private readonly inputs: FlinkRestInputs,
    private readonly settings: JobSettings,
    private readonly jarPath: string,
    private readonly uploadName: string,
  ) {
    this.wantedSettings = settingsText(settings, configDigest(inputs.flinkConfiguration));
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
      if (this.deadline.cancelled) throw new CancelledError(`The pipeline was cancelled while ${this.phase}`);
      if (this.deadline.timedOut) throw new WaitTimeoutError(`Timed out after ${formatDuration(this.options.timeoutMs)} while ${this.phase}; raise waitTimeoutInMinutes`);
      if (error instanceof AmbiguousJobError) throw new JobStateError(error.message);
      throw error;
    }
  }

  private async waitFor<O, T>(observe: (signal: AbortSignal) => Promise<O>, judge: (o: O) => Verdict<T>): Promise<Exclude<Verdict<T>, { done: false }>> {
    const schedule = new PollingSchedule(this.options.maxPollIntervalMs);
    for (;;) {
      const verdict = judge(await observe(this.signal));
      if (verdict.done) return verdict;
      this.options.onProgress?.(verdict.seen);
      await sleep(schedule.nextDelayMs(), this.signal);
    }
  }

  private view(jobId: string | undefined, state: string | undefined, jarId?: string): JobView {
    return { jobName: this.jobName, runId: "", ...(jobId ? { jobId } : {}), ...(state ? { jobStatus: state } : {}), ...(jarId ? { jarId } : {}) };
  }

  private async clusterConfig(): Promise<Record<string, string>> {
    this.clusterConfigCache ??= await this.api.clusterConfig(this.signal);
    return this.clusterConfigCache;
  }

  read() {
    return this.guarded("reading the job", async () => {
      const config = await this.api.config(this.signal);
      this.version = config.version;
      if (!atLeast(config.version, OLDEST_SUPPORTED.major, OLDEST_SUPPORTED.minor)) {
        throw new JobStateError(`The cluster at ${this.ctx.where} runs Flink ${config.version.text}; these tasks need Flink ${OLDEST_SUPPORTED.major}.${OLDEST_SUPPORTED.minor} or later`);
      }
      const jars = config.webSubmit ? await this.api.listJars(this.signal) : undefined;
      if (!jars) throw new JobStateError(`The cluster at ${this.ctx.where} does not accept jars over REST (web submission is off, or it is an application cluster). Deploy to a session cluster with web submission enabled.`);
      this.jars = jars;
      const found = findExecutions(await this.api.jobsOverview(this.signal), this.jobName);
      this.live = found.executions.find((e) => isLive(e.state));
      const own = jarsOf(jars, this.jobName)[0];
      const fields = own ? (jarNameFields(own.name) ?? jarNameFields(own.id) ?? {}) : {};
      const configuration = isStringMap(fields["f"]) ? fields["f"] : undefined;
      const digest = typeof fields["c"] === "string" ? fields["c"] : configDigest(configuration ?? {});
      if (own) this.previous = { jarId: own.id, settings: own.settings, configuration };
      const newest = found.executions[0];
      const state = {
        live: this.live !== undefined,
        job: this.view(newest?.jid, newest?.state, own?.id),
        rollbackPossible: own !== undefined,
        ...(own && typeof fields["h"] === "string" ? { jarSha256: b64ToHex(fields["h"]) } : {}),
        ...(own ? { settings: settingsText(own.settings, digest) } : {}),
      };
      if (!own) {
        return { ...state, rollbackImpossibleBecause: `the cluster at ${this.ctx.where} no longer has the jar the previous version ran from (uploaded jars live on the JobManager's disk and are gone after it restarts, or the job was started outside these tasks)` };
      }
      return state;
    });
  }

  upload() {
    return this.guarded("uploading the jar", async () => {
      const { openAsBlob } = await import("node:fs");
      const blob = await openAsBlob(this.jarPath, { type: "application/x-java-archive" });
      this.uploaded = await this.api.uploadJar(blob, this.uploadName, this.signal);
      this.log.info(`Uploaded ${path.basename(this.jarPath)} as jar ${this.uploaded}.`);
      return { jarId: this.uploaded };
    });
  }

  submit() {
    return this.guarded("starting the job", () => this.run({ jarId: this.uploaded!, settings: this.settings, configuration: this.inputs.flinkConfiguration }, undefined, this.inputs.allowNonRestoredState));
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
        if (mode === "stateless" && exec.state !== "RUNNING") {
          // A job that is not RUNNING cannot take a savepoint, and a stateless upgrade needs none.
          this.log.warning(`Job ${exec.jid} is ${exec.state}, so it cannot take a savepoint: it is cancelled, and a rollback would start the previous version without state.`);
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
      const version = { jarId: this.uploaded!, settings: this.settings, configuration: this.inputs.flinkConfiguration };
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
    const trigger = await this.api.stopWithSavepoint(jobId, dir, newTriggerId(), this.signal, this.inputs.savepointFormat);
    const verdict = await this.waitFor((s) => this.api.savepointStatus(jobId, trigger, s), judgeTrigger);
    if (!verdict.ok) {
      const now = await this.api.jobDetails(jobId, this.signal);
      const state = now?.state ?? "no longer listed";
      throw new JobStateError(
        `stop-with-savepoint of job ${jobId} failed: ${verdict.failure}. The running version is ${state}; nothing new was started.` +
          (state !== "RUNNING" ? " A job that is not RUNNING cannot take a savepoint: upgrade it with upgradeMode 'lastState' (from its newest retained checkpoint) or 'stateless'." : ""),
      );
    }
    await this.waitFor(async (s) => (await this.api.jobDetails(jobId, s))?.state, (state) => judgeEnded(state, "FINISHED"));
    this.log.info(`Savepoint written: ${verdict.value}`);
    return verdict.value;
  }

  private async cancelAndWait(jobId: string): Promise<string> {
    await this.api.cancel(jobId, this.signal);
    const verdict = await this.waitFor(async (s) => (await this.api.jobDetails(jobId, s))?.state, (state) => judgeEnded(state, "CANCELED"));
    return verdict.ok ? verdict.value : "UNKNOWN";
  }

  /** POST /run once with a JobID chosen here; a retry after an ambiguous failure carries the same JobID. */
  private async run(version: Version, savepointPath: string | undefined, allowNonRestoredState: boolean): Promise<Started> {
    const jobId = newJobId(this.jobName, "deploy");
    if (!version.configuration) this.log.warning(`The configuration jar ${version.jarId} ran with was too long to keep with it: it runs now with the cluster's configuration only.`);
    const config: Record<string, string> = { ...version.configuration };
    if (atLeast(this.version, 1, 17)) {
      config["pipeline.name"] = this.jobName;
      if (version.settings.savepointDirectory) config[savepointDirKey(this.version)] = version.settings.savepointDirectory;
    }
    const body = runRequestBody(this.version, {
      jobId,
      args: version.settings.args,
      ...(version.settings.entryClass ? { entryClass: version.settings.entryClass } : {}),
      ...(version.settings.parallelism !== undefined ? { parallelism: version.settings.parallelism } : {}),
      ...(savepointPath ? { savepointPath, allowNonRestoredState, ...(this.inputs.claimMode ? { claimMode: this.inputs.claimMode } : {}) } : {}),
      flinkConfiguration: config,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.api.run(version.jarId, body, this.signal);
        break;
      } catch (error) {
        if (error instanceof FlinkRestError && error.says("already been submitted")) break;
        if (error instanceof AmbiguousRequestError && attempt < 3) {
          this.log.warning(`${error.message}; sending the run again with the same JobID ${jobId}, which Flink accepts only once.`);
          await sleep(1000 * attempt, this.signal);
          continue;
        }
        // Registered before main() failed (a restore that fails at start): the health check reads the job's failure.
        if (error instanceof FlinkRestError && (await this.api.jobDetails(jobId, this.signal))) break;
        if (error instanceof FlinkRestError) throw new JobStateError(`Flink refused to run jar ${version.jarId}: ${error.errors.join(" | ")}`);
        throw error;
      }
    }
    this.log.info(`Flink accepted job ${jobId} (jar ${version.jarId}${savepointPath ? `, restoring from ${savepointPath}` : ""}).`);
    return { job: this.view(jobId, "INITIALIZING", version.jarId) };
  }

  health(started: Started, seconds: number) {
    return this.guarded("checking the new version's health", async (): Promise<Health> => {
      const jobId = started.job.jobId!;
      const failed = async (what: string, state: string | undefined): Promise<Health> => ({ healthy: false, report: await this.failureReport(jobId, what), job: { ...started.job, ...(state ? { jobStatus: state } : {}) } });
      const first = await this.waitFor((s) => this.api.jobDetails(jobId, s), judgeStarted);
      if (!first.ok) return failed(first.failure, (await this.api.jobDetails(jobId, this.signal))?.state);
      const runningSince = Date.now();
      const checkpointing = await this.checkpointingOn(jobId);
      this.log.info(`Job ${jobId} is RUNNING; watching it for ${seconds} s${checkpointing ? " and for a completed checkpoint" : ""}.`);
      const schedule = new PollingSchedule(this.options.maxPollIntervalMs);
      for (;;) {
        const details = await this.api.jobDetails(jobId, this.signal);
        if (details?.state !== "RUNNING") return failed(`the job left RUNNING: ${details ? describeDetails(details) : "no longer listed"}`, details?.state);
        const restarts = await this.restarts(jobId);
        if (restarts > 0) return failed(`the job restarted ${restarts} time(s) (${describeDetails(details)})`, details.state);
        const checkpointed = !checkpointing || (await this.checkpointCompletedSince(jobId));
        const elapsed = Date.now() - runningSince;
        if (elapsed >= seconds * 1000 && checkpointed) {
          return { healthy: true, seen: `RUNNING for ${Math.round(elapsed / 1000)} s without a restart${checkpointing ? ", a checkpoint completed" : ""}` };
        }
        this.options.onProgress?.(`job RUNNING for ${Math.round(elapsed / 1000)} of ${seconds} s${checkpointing && !checkpointed ? ", no checkpoint completed yet" : ""}`);
        const left = seconds * 1000 - elapsed;
        await sleep(left > 0 ? Math.min(schedule.nextDelayMs(), left) : schedule.nextDelayMs(), this.signal);
      }
    });
  }

  /** Restarts since the job started: Flink's numRestarts metric, else the failures in its exception history. */
  private async restarts(jobId: string): Promise<number> {
    const metric = await this.api.client.call({ method: "GET", path: `/jobs/${jobId}/metrics?get=numRestarts`, idempotent: true, signal: this.signal });
    const entry = Array.isArray(metric.data) ? (metric.data as Array<{ id?: unknown; value?: unknown }>).find((m) => m.id === "numRestarts") : undefined;
    if (entry && Number.isFinite(Number(entry.value))) return Number(entry.value);
    return (await this.exceptionHistory(jobId)).length;
  }

  private async exceptionHistory(jobId: string): Promise<Array<{ name: string; time: number }>> {
    const answer = await this.api.client.call({ method: "GET", path: `/jobs/${jobId}/exceptions?maxExceptions=10`, idempotent: true, signal: this.signal });
    const history = (answer.data as { exceptionHistory?: { entries?: unknown[] } } | undefined)?.exceptionHistory?.entries;
    if (!Array.isArray(history)) return [];
    return history.map((e) => {
      const entry = e as { exceptionName?: unknown; timestamp?: unknown };
      return { name: typeof entry.exceptionName === "string" ? entry.exceptionName : "?", time: typeof entry.timestamp === "number" ? entry.timestamp : 0 };
    });
  }

  private async checkpointingOn(jobId: string): Promise<boolean> {
    try {
      const answer = await this.api.client.call({ method: "GET", path: `/jobs/${jobId}/checkpoints/config`, idempotent: true, signal: this.signal });
      const interval = (answer.data as { interval?: unknown } | undefined)?.interval;
      // Flink reports a disabled periodic checkpointing as Long.MAX_VALUE.
      return typeof interval === "number" && interval > 0 && interval < 9e18;
    } catch (error) {
      if (error instanceof FlinkRestError && (error.status === 404 || error.says("not enabled"))) return false;
      throw error;
    }
  }

  private async checkpointCompletedSince(jobId: string): Promise<boolean> {
    const stats = await this.api.checkpoints(jobId, this.signal);
    const completed = stats?.latestCompleted;
    return completed !== undefined && (stats?.latestRestored === undefined || completed.id > stats.latestRestored.id);
  }

  /** What failed, in Flink's words: the state, the restarts, the newest exception. */
  private async failureReport(jobId: string, what: string): Promise<string> {
    const [history, root] = await Promise.all([this.exceptionHistory(jobId).catch(() => []), this.api.rootException(jobId, this.signal).catch(() => undefined)]);
    const names = [...new Set(history.map((h) => h.name))];
    return `${what} (JobID ${jobId})` + (history.length ? `; exception history: ${history.length}${history.length >= 10 ? "+" : ""} failure(s) (${names.join(", ")})` : "") + (root ? `; newest: ${root}` : "");
  }

  rollback(failed: Started, savepoint: string | undefined) {
    return this.guarded("rolling back", async () => {
      const failedId = failed.job.jobId!;
      const now = await this.api.jobDetails(failedId, this.signal);
      if (now && isLive(now.state)) {
        this.log.info(`Cancelling the failed version (${failedId}, ${now.state}).`);
        await this.cancelAndWait(failedId);
      }
      const previous = this.previous!;
      this.phase = "starting the previous version";
      const back = await this.run(previous, savepoint, false);
      const verdict = await this.waitFor((s) => this.api.jobDetails(back.job.jobId!, s), judgeStarted);
      if (!verdict.ok) {
        throw new JobStateError(`the previous version (jar ${previous.jarId}, JobID ${back.job.jobId}) did not start again: ${await this.failureReport(back.job.jobId!, verdict.failure)}`);
      }
      if (this.uploaded) await this.api.deleteJar(this.uploaded, this.signal).catch(() => undefined);
      return { job: { ...back.job, jobStatus: verdict.value.state } };
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
      const signal = this.deadline.lastLookSignal();
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

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}
