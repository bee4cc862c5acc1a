/**
 * FlinkJobDeploy, whatever the cluster: decide → upload → submit or upgrade → health gate →
 * rollback. This file holds the decisions and the messages; each backend supplies the primitives
 * (a DeployTarget) in src/backends/<name>/deploy.ts. Nothing here touches the network, so the
 * whole decision table is tested in memory against a fake target.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { CancelledError, InputError } from "../errors";
import * as rule from "../validation/rules";
import type { ActionOutcome, JobView, RawInputs } from "./backend";

export const UPGRADE_MODES = ["savepoint", "lastState", "stateless"] as const;
export type UpgradeMode = (typeof UPGRADE_MODES)[number];

export type DeployAction = "submitted" | "upgraded" | "unchanged" | "rolledBack";

/** Deploy's own inputs, the same on every target. */
export interface DeployInputs {
  upgradeMode: UpgradeMode;
  healthCheckSeconds: number;
  rollbackOnFailure: boolean;
}

export function validateDeployInputs(raw: RawInputs): DeployInputs {
  return {
    upgradeMode: rule.oneOf("upgradeMode", raw("upgradeMode"), UPGRADE_MODES, "savepoint"),
    healthCheckSeconds: rule.integer("healthCheckSeconds", raw("healthCheckSeconds"), { min: 0, max: 24 * 3600, fallback: 60 }),
    rollbackOnFailure: rule.boolean("rollbackOnFailure", raw("rollbackOnFailure"), true),
  };
}

/** The local jar and its SHA-256, read before any call. */
export interface LocalJar {
  path: string;
  size: number;
  sha256: string;
}

export async function hashJar(file: { path: string; size: number }): Promise<LocalJar> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file.path)) hash.update(chunk as Buffer);
  return { ...file, sha256: hash.digest("hex") };
}

/** What runs now under the job's name, as the target reads it. */
export interface DeployedState {
  /** A live execution (running, restarting, …): there is something to upgrade. */
  live: boolean;
  job: JobView;
  /** SHA-256 of the jar the live job runs, where the target recorded it. */
  jarSha256?: string;
  /** The settings the live job was started with (entry class, args, parallelism, configuration), as one comparable text. */
  settings?: string;
  /** Whether the previous version can be started again (its jar and settings are still known). */
  rollbackPossible: boolean;
  /** Why not, when it cannot. */
  rollbackImpossibleBecause?: string;
}

/** One started execution. */
export interface Started {
  job: JobView;
}

export type Health = { healthy: true; seen: string } | { healthy: false; report: string; job: JobView };

/** The primitives a backend gives the orchestrator. Each throws on a service error (the step fails with it). */
export interface DeployTarget {
  /** The settings this step asks for, in the same comparable text as DeployedState.settings. */
  readonly wantedSettings: string;
  read(): Promise<DeployedState>;
  /** Puts the new jar where the cluster runs it from; returns where (jarId or jarPath). */
  upload(jar: LocalJar): Promise<{ jarId?: string; jarPath?: string }>;
  /** Not running: start the new version. */
  submit(): Promise<Started>;
  /**
   * Running: stop (with a savepoint or from the last checkpoint, per mode) and start the new
   * version. `previousSavepoint` is the rollback point; reported through onStopped as soon as known.
   */
  upgrade(mode: UpgradeMode, onStopped: (previousSavepoint: string | undefined) => void): Promise<Started>;
  /** Whether the started version stays healthy for `seconds`. */
  health(started: Started, seconds: number): Promise<Health>;
  /** Brings back the previous version from `savepoint` (stopping the failed one first); resolves once it runs. */
  rollback(failed: Started, savepoint: string | undefined): Promise<Started>;
  /** The new version is healthy: drop what only a rollback needed (older jars). */
  commit(): Promise<void>;
  /** Reads where the job stands now, for a message after a failure or cancel; never throws. */
  whereNow(): Promise<string>;
}

export interface DeployOutcome extends ActionOutcome {
  deployAction?: DeployAction;
  jarSha256: string;
  jarId?: string;
  jarPath?: string;
  previousSavepoint?: string;
}

export interface DeployLog {
  info(message: string): void;
  warning(message: string): void;
}

/**
 * The deployment. A failed health gate, a rollback, and a failed rollback all come back as a
 * FAILED outcome whose `failure` says where the job stands and which savepoint holds the last
 * good state; a cancel or timeout in the middle throws with the same information.
 */
export async function deploy(target: DeployTarget, jar: LocalJar, inputs: DeployInputs, jobName: string, log: DeployLog, waitForHealth = true): Promise<DeployOutcome> {
  const base: DeployOutcome = { actionResult: "FAILED", jarSha256: jar.sha256 };
  let stage = "reading the job";
  let previousSavepoint: string | undefined;
  let stopped = false;
  try {
    const now = await target.read();
    if (now.live && now.jarSha256 === jar.sha256 && now.settings === target.wantedSettings) {
      log.info(`Job '${jobName}' already runs this jar (SHA-256 ${jar.sha256}) with these settings: nothing to do.`);
      return { ...base, actionResult: "SUCCESS", deployAction: "unchanged", job: now.job };
    }
    if (now.live) {
      log.info(
        `Job '${jobName}' runs ${now.jarSha256 ? `a jar with SHA-256 ${now.jarSha256}` : "a jar these tasks did not record"}` +
          `${now.jarSha256 === jar.sha256 ? " (the same jar, other settings)" : ""}: upgrading it (${inputs.upgradeMode}) to ${jar.sha256}.`,
      );
    } else {
      log.info(`Job '${jobName}' is not running${now.job.jobStatus ? ` (last execution ${now.job.jobStatus})` : ""}: submitting it.`);
    }
    stage = "uploading the jar";
    const where = await target.upload(jar);
    Object.assign(base, where);
    let started: Started;
    if (now.live) {
      stage = "stopping the running version";
      started = await target.upgrade(inputs.upgradeMode, (savepoint) => {
        stopped = true;
        previousSavepoint = savepoint;
        if (savepoint) base.previousSavepoint = savepoint;
        stage = "starting the new version";
      });
    } else {
      stage = "starting the job";
      started = await target.submit();
    }
    const action: DeployAction = now.live ? "upgraded" : "submitted";
    if (!waitForHealth) {
      log.warning("waitForCompletion is false: the health gate is skipped, and a failing new version will not be rolled back.");
      return { ...base, actionResult: "IN_PROGRESS", deployAction: action, job: started.job };
    }
    stage = "checking the new version's health";
    const health = await target.health(started, inputs.healthCheckSeconds);
    if (health.healthy) {
      log.info(`The new version is healthy: ${health.seen}.`);
      stage = "removing what only a rollback needed";
      await target.commit();
      return { ...base, actionResult: "SUCCESS", deployAction: action, job: started.job };
    }
    const failed = `The new version of job '${jobName}' failed its health check: ${health.report}`;
    const lastGood = previousSavepoint ? `Savepoint ${previousSavepoint} holds the last good state (taken before the upgrade).` : "";
    if (!now.live) {
      return { ...base, job: health.job, failure: `${failed}. There was no previous version to roll back to; the job is left as it is (${describe(health.job)}).` };
    }
    if (!inputs.rollbackOnFailure) {
      return {
        ...base,
        deployAction: action,
        job: health.job,
        failure: `${failed}. rollbackOnFailure is false: the new version is left as it is (${describe(health.job)}). ${lastGood || "No savepoint was taken before the upgrade."}`.trim(),
      };
    }
    if (!now.rollbackPossible) {
      return { ...base, deployAction: action, job: health.job, failure: `${failed}. It cannot be rolled back: ${now.rollbackImpossibleBecause}. ${lastGood}`.trim() };
    }
    log.warning(`${failed}. Rolling back to the previous version${previousSavepoint ? ` from savepoint ${previousSavepoint}` : " without state"}.`);
    stage = "rolling back";
    let back: Started;
    try {
      back = await target.rollback(started, previousSavepoint);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      const where = await target.whereNow();
      return {
        ...base,
        deployAction: action,
        job: health.job,
        failure: `${failed}. The rollback failed too: ${(error as Error).message}. Where the job stands: ${where}. ${lastGood}`.trim(),
      };
    }
    return {
      ...base,
      deployAction: "rolledBack",
      job: back.job,
      failure: `${failed}. Rolled back: the previous version runs again (${describe(back.job)})${previousSavepoint ? `, restored from savepoint ${previousSavepoint}` : ""}.`,
    };
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = (error as Error).message;
    if (!stopped) throw Object.assign(error as Error, { deploy: base });
    // The old version is stopped: whatever went wrong, say where the job stands.
    const where = await target.whereNow();
    const text = `${message}${message.includes(stage) ? "" : ` (while ${stage})`}. Where the job stands: ${where}. ${previousSavepoint ? `Savepoint ${previousSavepoint} holds the last good state (taken before the upgrade).` : ""}`.trim();
    const wrapped = error instanceof CancelledError ? new CancelledError(text) : Object.assign(new Error(text), { name: (error as Error).name });
    throw Object.assign(wrapped, { deploy: base, ...((error as { job?: JobView }).job ? { job: (error as { job?: JobView }).job } : {}) });
  }
}

function describe(job: JobView): string {
  return [job.jobId ? `JobID ${job.jobId}` : undefined, job.jobStatus].filter(Boolean).join(", ") || "state unknown";
}
