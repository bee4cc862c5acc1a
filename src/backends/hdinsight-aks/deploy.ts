/**
 * FlinkJobDeploy on HDInsight on AKS: the primitives src/jobs/deploy.ts drives.
 *
 * The service keeps what a deployment must compare in the job's record (jobJarDirectory, jarName,
 * entryClass, args, flinkConfiguration) and the jar's SHA-256 in the blob's metadata (written by
 * uploadJar). An upgrade replaces the bytes at the path the running job reads, because UPDATE
 * (and its stateless and last-state forms) restarts the job from the jar at that same path; the
 * bytes it replaces are kept beside it (<dir>/.versions/<sha16>/<name>) for a rollback, which
 * copies them back and UPDATEs from the savepoint the upgrade took.
 */
import * as path from "node:path";
import { checkJarName } from "../../azure/abfs";
import type { JarBlobState, JarLocation, JarUploadResult } from "../../azure/jar-upload";
import { CancelledError, InputError, JobStateError, WaitTimeoutError } from "../../errors";
import type { DeployRequest, JobView, WaitOptions } from "../../jobs/backend";
import { Deadline, formatDuration } from "../../jobs/deadline";
import type { JobRecord as DeployRecord } from "../../jobs/record";
import { type DeployOutcome, type DeployTarget, deploy, type Health, hashJar, type LocalJar, type Started, type UpgradeMode } from "../../jobs/deploy";
import { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import { resolveJarFile } from "../../validation/jar-file";
import { ACTIONS, type FlinkAction, supports } from "./actions";
import type { HdInsightInputs } from "./inputs";
import { currentRecord, describeRecord, isLive, type JobProperties, type JobRecord, recordKey, recordsNamed } from "./job-record";
import type { JobsApi } from "./jobs-api";
import { readDuringWait } from "./read-status";
import { type ActionRequest, type RecordOutcome, runAction, type RunActionOptions } from "./run-action";
import { jobView } from "./view";

/** The jar storage a deployment needs; the task's is src/azure/jar-upload.ts, tests give a fake. */
export interface JarStore {
  /** The blob at <jobJarDirectory>/<jarName>; undefined when there is none. */
  read(jobJarDirectory: string, jarName: string, signal: AbortSignal): Promise<JarBlobState | undefined>;
  /** uploadJar: replaces a different jar only when `overwrite`, keeping its bytes (result.previous). */
  upload(filePath: string, jobJarDirectory: string, jarName: string, overwrite: boolean, signal: AbortSignal): Promise<JarUploadResult>;
  /** Copies kept bytes back over <jobJarDirectory>/<jarName>, if it still has etag `ifMatch`. */
  restore(from: JarLocation, jobJarDirectory: string, jarName: string, ifMatch: string, signal: AbortSignal): Promise<JarBlobState>;
}

export interface HdInsightDeployContext {
  api: JobsApi;
  jars: JarStore;
  workingDirectory: string;
  /** The backend's test tuning of the wait (poll gaps, windows). */
  tuning: Pick<RunActionOptions, "minPollIntervalMs" | "ambiguityWindowMs" | "silentLimitMs" | "operationHeadStartMs">;
}

const UPGRADE_ACTIONS: Record<UpgradeMode, FlinkAction> = { savepoint: "UPDATE", stateless: "STATELESS_UPDATE", lastState: "LAST_STATE_UPDATE" };

/** What a record was started with, as one comparable text: equal text, same job definition. */
function settingsText(p: Pick<JobProperties, "entryClass" | "args" | "flinkConfiguration">): string {
  const config = Object.entries(p.flinkConfiguration ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ entryClass: p.entryClass ?? null, args: (p.args ?? "").trim(), flinkConfiguration: config });
}

export async function hdinsightDeploy(ctx: HdInsightDeployContext, request: DeployRequest<HdInsightInputs>, options: WaitOptions): Promise<DeployOutcome> {
  const { inputs, jobName } = request;
  for (const warning of inputs.warnings) options.logger.warning(warning);
  // Local work and every refusal first: nothing is read or written before these pass.
  const upgradeAction = UPGRADE_ACTIONS[request.deploy.upgradeMode];
  if (!supports(ctx.api.apiVersion, upgradeAction)) {
    throw new InputError("upgradeMode", `'${request.deploy.upgradeMode}' runs ${upgradeAction}, which needs apiVersion ${ACTIONS[upgradeAction].since} or later; apiVersion is ${ctx.api.apiVersion}`);
  }
  const file = resolveJarFile("jarFile", inputs.jarFile!, ctx.workingDirectory);
  const jarName = checkJarName(path.basename(file.path), "jarFile");
  const jar = await hashJar(file);
  const c = ctx.api.cluster;
  options.logger.info(`Deploying ${path.basename(file.path)} (SHA-256 ${jar.sha256}) as job '${jobName}' on cluster '${c.clusterName}' (pool '${c.clusterPoolName}', api-version ${ctx.api.apiVersion}).`);
  const deadline = new Deadline(options.timeoutMs, options.signal);
  try {
    const target = new HdInsightDeployTarget(ctx, options, deadline, jobName, inputs, jar, jarName, upgradeAction);
    return await deploy(target, jar, request.deploy, jobName, options.logger, options.waitForCompletion);
  } finally {
    deadline.dispose();
  }
}

/** A started version: the action's outcome in the service's records. */
interface HdStarted extends Started {
  action: FlinkAction;
  outcome: RecordOutcome;
}

class HdInsightDeployTarget implements DeployTarget {
  readonly wantedSettings: string;
  /** The live record read first: the version an upgrade replaces and a rollback brings back. */
  private live?: JobRecord;
  /** Where the jar goes: the running job's own path for an upgrade, the inputs' for a submit. */
  private destination!: { jobJarDirectory: string; jarName: string };
  /** A stopped or failed record of this job read from this same path: a submit may replace it. */
  private pathWasThisJobs = false;
  private uploaded?: JarUploadResult;
  private phase = "reading the job";

  constructor(
    private readonly ctx: HdInsightDeployContext,
    private readonly options: WaitOptions,
    private readonly deadline: Deadline,
    private readonly jobName: string,
    private readonly inputs: HdInsightInputs,
    private readonly jar: LocalJar,
    private readonly jarName: string,
    private readonly upgradeAction: FlinkAction,
  ) {
    this.wantedSettings = settingsText(inputs.definition);
  }

  private get api() {
    return this.ctx.api;
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
      if (error instanceof CancelledError || error instanceof WaitTimeoutError) throw error;
      throw this.deadline.interruption(this.phase) ?? error;
    }
  }

  /** One action through the backend's own wait (never a second copy of it), within what is left of the budget. */
  private act(action: FlinkAction, definition: ActionRequest["definition"]): Promise<RecordOutcome> {
    const remaining = this.deadline.remainingMs();
    if (remaining <= 0) throw new WaitTimeoutError(`Timed out after ${formatDuration(this.options.timeoutMs)} before ${action} of job '${this.jobName}' was posted; raise waitTimeoutInMinutes`);
    return runAction(
      this.api,
      { action, jobName: this.jobName, definition },
      {
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        timeoutMs: remaining,
        waitForCompletion: this.options.waitForCompletion,
        maxPollIntervalMs: this.options.maxPollIntervalMs,
        logger: this.log,
        onProgress: this.options.onProgress ?? ((seen) => this.log.debug(`Waiting: ${seen}`)),
        ...this.ctx.tuning,
      },
    );
  }

  private view(record: JobRecord | undefined): JobView {
    return jobView(record, this.jobName, this.api.apiVersion);
  }

  read() {
    return this.guarded("reading the job", async () => {
      const named = recordsNamed(await this.api.listJobs({ jobName: this.jobName, signal: this.deadline.signal }), this.jobName);
      const busy = named.find((r) => r.properties.actionResult === "IN_PROGRESS");
      if (busy) throw new JobStateError(`Job '${this.jobName}' has ${busy.properties.action ?? "an"} action still IN_PROGRESS (${describeRecord(busy)}); wait for it to finish, then deploy again. Nothing was changed.`);
      this.live = named.find(isLive);
      const wantedDir = this.inputs.definition.jobJarDirectory!;
      if (!this.live) {
        this.destination = { jobJarDirectory: wantedDir, jarName: this.jarName };
        this.pathWasThisJobs = named.some((r) => sameDirectory(r.properties.jobJarDirectory, wantedDir) && r.properties.jarName === this.jarName);
        return { live: false, job: this.view(currentRecord(named, this.jobName)), rollbackPossible: false } satisfies DeployRecord;
      }
      const p = this.live.properties;
      if (!p.jobJarDirectory || !p.jarName) {
        throw new JobStateError(`The running record of job '${this.jobName}' (${describeRecord(this.live)}) does not say which jar it runs (no jobJarDirectory or jarName), so an upgrade could not replace it. Nothing was changed.`);
      }
      // UPDATE keeps the running job's entry class and configuration: only the jar's bytes and args change.
      const keeps: string[] = [];
      if ((p.entryClass ?? null) !== (this.inputs.definition.entryClass ?? null)) keeps.push(`entryClass ${p.entryClass ?? "(none)"}`);
      if (settingsText({ flinkConfiguration: p.flinkConfiguration ?? {} }) !== settingsText({ flinkConfiguration: this.inputs.definition.flinkConfiguration ?? {} })) {
        keeps.push(`flinkConfiguration ${JSON.stringify(p.flinkConfiguration ?? {})} (parallelism and savepointDirectory included)`);
      }
      if (keeps.length) {
        throw new InputError(
          keeps[0]!.startsWith("entryClass") ? "entryClass" : "flinkConfiguration",
          `job '${this.jobName}' runs with ${keeps.join(" and ")}; an upgrade on HDInsight on AKS (${this.upgradeAction}) keeps those and changes only the jar and args. ` +
            `Give the running job's values, or stop it (FlinkJobStop), delete it (FlinkJobDelete) and deploy again to submit it with the new ones. Nothing was changed`,
        );
      }
      this.destination = { jobJarDirectory: p.jobJarDirectory, jarName: p.jarName };
      const blob = await this.ctx.jars.read(p.jobJarDirectory, p.jarName, this.deadline.signal);
      const status = p.status ?? "unknown";
      return {
        live: true,
        job: this.view(this.live),
        // The service runs one execution per job from the blob at its path: that blob's SHA-256 is what runs.
        artifact: { ...(blob?.sha256 ? { sha256: blob.sha256 } : {}), settings: settingsText(p), location: `${p.jobJarDirectory}/${p.jarName}` },
        health: { healthy: status === "RUNNING", evidence: `the service lists the job ${status}` },
        rollbackPossible: blob !== undefined,
        ...(blob ? {} : { rollbackImpossibleBecause: `the jar the running version was started from is no longer at ${p.jobJarDirectory}/${p.jarName}` }),
      };
    });
  }

  upload() {
    return this.guarded("uploading the jar", async () => {
      const { jobJarDirectory, jarName } = this.destination;
      if (this.live) {
        if (!sameDirectory(jobJarDirectory, this.inputs.definition.jobJarDirectory)) {
          this.log.warning(`Job '${this.jobName}' runs its jar from ${jobJarDirectory}, not from jobJarDirectory ${this.inputs.definition.jobJarDirectory}: the upgrade restarts it from the jar at that same path, so the new jar goes there.`);
        }
        if (jarName !== this.jarName) this.log.info(`The new jar ${this.jarName} is uploaded as ${jarName}, the name the running job reads (an upgrade restarts it from the jar at the same path).`);
      }
      const overwrite = this.live !== undefined || this.pathWasThisJobs;
      this.uploaded = await this.ctx.jars.upload(this.jar.path, jobJarDirectory, jarName, overwrite, this.deadline.signal);
      if (this.uploaded.previous) this.log.info(`The previous version's bytes are kept at ${this.uploaded.previous.jarPath} (for a rollback).`);
      return { jarPath: this.uploaded.jarPath };
    });
  }

  submit() {
    return this.guarded("starting the job", async (): Promise<HdStarted> => {
      const outcome = await this.act("NEW", { ...this.inputs.definition, ...this.destination });
      return { action: "NEW", outcome, job: this.view(outcome.record) };
    });
  }

  upgrade(mode: UpgradeMode, onStopped: (previousSavepoint: string | undefined) => void) {
    return this.guarded("upgrading the running version", async (): Promise<HdStarted> => {
      // Once posted, the running version may be stopped whatever the answer: from here a failure says where the job stands.
      onStopped(undefined);
      const outcome = await this.act(this.upgradeAction, { args: this.inputs.definition.args ?? "" });
      const before = this.live!.properties;
      const after = outcome.record?.properties;
      if (outcome.actionResult !== "SUCCESS" && after?.status === "RUNNING" && (!before.jobId || after.jobId === before.jobId)) {
        // The service refused the upgrade and the running version kept running: nothing was stopped.
        // Its jar goes back (so the blob says what runs) and the job is left alone, not restarted.
        await this.putPreviousJarBack();
        throw Object.assign(
          new JobStateError(
            `${this.upgradeAction} of job '${this.jobName}' ended ${outcome.actionResult} (${recordState(outcome.record)}) and the running version kept running` +
              `${after.jobId ? ` (JobID ${after.jobId})` : ""}: it was left alone, and its jar is back at ${this.uploaded!.jarPath}. The new version never ran.`,
          ),
          { oldVersionRuns: true, job: this.view(outcome.record) },
        );
      }
      const written = savepointWritten(outcome);
      if (written) {
        this.log.info(`${this.upgradeAction} took savepoint ${written} of the running version: the rollback point.`);
        onStopped(written);
      } else if (mode === "savepoint" && outcome.actionResult === "SUCCESS") {
        this.log.warning(`${this.upgradeAction} of job '${this.jobName}' succeeded, but its record names no new savepoint: a rollback would start the previous version without state.`);
      }
      return { action: this.upgradeAction, outcome, job: this.view(outcome.record) };
    });
  }

  remainingMs(): number {
    return this.deadline.remainingMs();
  }

  health(started: Started, seconds: number, _budgetMs: number) {
    return this.guarded("checking the new version's health", async (): Promise<Health> => {
      const { action, outcome } = started as HdStarted;
      const first = outcome.record;
      if (outcome.actionResult !== "SUCCESS" || first?.properties.status !== "RUNNING") {
        const ended = outcome.actionResult === "SUCCESS" ? `${action} succeeded, but the job is not RUNNING` : `${action} ended ${outcome.actionResult}`;
        return { healthy: false, report: `${ended}: ${recordState(first)}`, job: this.view(first) };
      }
      const key = recordKey(first);
      const since = Date.now();
      this.log.info(`Job '${this.jobName}' is RUNNING (${describeRecord(first)}); watching it for ${seconds} s.`);
      const schedule = new PollingSchedule(this.options.maxPollIntervalMs, this.ctx.tuning.minPollIntervalMs);
      for (;;) {
        const elapsed = Date.now() - since;
        if (elapsed >= seconds * 1000) return { healthy: true, seen: `RUNNING for ${Math.round(elapsed / 1000)} s (${describeRecord(first)})`, job: this.view(first) };
        await sleep(Math.min(schedule.nextDelayMs(), seconds * 1000 - elapsed), this.deadline.signal);
        const records = await readDuringWait(this.api, this.jobName, this.deadline.signal, this.log);
        if (!records) continue;
        const now = records.find((r) => r.properties.jobName === this.jobName && recordKey(r) === key);
        if (!now) return { healthy: false, report: `the job's record (${key}) is no longer listed`, job: this.view(undefined) };
        if (now.properties.status !== "RUNNING") return { healthy: false, report: `the job left RUNNING after ${Math.round((Date.now() - since) / 1000)} s: ${recordState(now)}`, job: this.view(now) };
        this.options.onProgress?.(`job RUNNING for ${Math.round((Date.now() - since) / 1000)} of ${seconds} s`);
      }
    });
  }

  /** The running version's bytes back at the path it runs from (kept under .versions/ by the upload). */
  private async putPreviousJarBack(): Promise<void> {
    const { jobJarDirectory, jarName } = this.destination;
    const uploaded = this.uploaded!;
    if (uploaded.previous) {
      this.phase = "putting the previous jar back";
      await this.ctx.jars.restore(uploaded.previous, jobJarDirectory, jarName, uploaded.etag, this.deadline.signal);
    } else if (uploaded.status !== "unchanged") {
      throw new JobStateError(`the previous jar's bytes were not kept when ${uploaded.jarPath} was written, so it cannot be put back`);
    }
  }

  rollback(_failed: Started | undefined, savepoint: string | undefined) {
    return this.guarded("rolling back", async (): Promise<HdStarted> => {
      await this.putPreviousJarBack();
      this.phase = "starting the previous version";
      const action: FlinkAction = savepoint ? "UPDATE" : "STATELESS_UPDATE";
      const args = this.live!.properties.args ?? "";
      const outcome = await this.act(action, { args, ...(savepoint ? { savePointName: savepoint } : {}) });
      if (outcome.actionResult !== "SUCCESS" || outcome.record?.properties.status !== "RUNNING") {
        throw new JobStateError(`the previous version did not start again: ${action}${savepoint ? ` from ${savepoint}` : ""} ended ${outcome.actionResult}, ${recordState(outcome.record)}`);
      }
      return { action, outcome, job: this.view(outcome.record) } satisfies HdStarted;
    });
  }

  async commit(): Promise<void> {
    // Kept versions stay: a later rollback (or a person) may need them; a lifecycle rule on .versions/ can expire them.
    if (this.uploaded?.previous) this.log.debug(`The previous version stays at ${this.uploaded.previous.jarPath}.`);
  }

  async whereNow(): Promise<string> {
    try {
      const records = await this.api.listJobs({ jobName: this.jobName, signal: this.deadline.lastLookSignal() });
      const record = currentRecord(records, this.jobName);
      const jar = this.uploaded ? `; the jar at ${this.uploaded.jarPath}` : "";
      return record ? `${describeRecord(record)}${record.properties.jobOutput ? `, jobOutput '${record.properties.jobOutput.trim()}'` : ""}${jar}` : `no record of job '${this.jobName}' is listed${jar}`;
    } catch (error) {
      return `unknown: the job could not be read (${(error as Error).message})`;
    }
  }
}

/** The savepoint an upgrade took of the running version: the record's new lastSavePoint. */
function savepointWritten(outcome: RecordOutcome): string | undefined {
  const after = outcome.record?.properties.lastSavePoint;
  return after && after !== outcome.before?.properties.lastSavePoint ? after : undefined;
}

function recordState(record: JobRecord | undefined): string {
  if (!record) return "no record of the job was listed";
  const p = record.properties;
  return `status ${p.status ?? "?"}, jobOutput '${(p.jobOutput ?? "(none)").trim()}'${p.runId ? ` (runId ${p.runId})` : ""}`;
}

function sameDirectory(a: string | undefined, b: string | undefined): boolean {
  // The scheme does not matter (always TLS); container and host are case-insensitive, the path is not.
  const norm = (s: string | undefined) => {
    const rest = (s ?? "").trim().replace(/\/+$/, "").replace(/^abfss?:\/\//i, "");
    const slash = rest.indexOf("/");
    return slash < 0 ? rest.toLowerCase() : rest.slice(0, slash).toLowerCase() + rest.slice(slash);
  };
  return norm(a) === norm(b);
}
