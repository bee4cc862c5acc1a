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
import { ACTION_OF, decide, UPGRADE_MODES, type UpgradeMode } from "./decide";
import type { JobRecord } from "./record";

export { UPGRADE_MODES, type UpgradeMode };

export type DeployAction = "submitted" | "upgraded" | "unchanged" | "rolledBack" | "repaired" | `plan:${"submitted" | "upgraded" | "unchanged" | "repaired"}`;

/** Deploy's own inputs, the same on every target. */
export interface DeployInputs {
  upgradeMode: UpgradeMode;
  healthCheckSeconds: number;
  rollbackOnFailure: boolean;
  /** Read the job and report the plan; change nothing. */
  dryRun: boolean;
}

export function validateDeployInputs(raw: RawInputs): DeployInputs {
  return {
    upgradeMode: rule.oneOf("upgradeMode", raw("upgradeMode"), UPGRADE_MODES, "savepoint"),
    healthCheckSeconds: rule.integer("healthCheckSeconds", raw("healthCheckSeconds"), { min: 0, max: 24 * 3600, fallback: 60 }),
    rollbackOnFailure: rule.boolean("rollbackOnFailure", raw("rollbackOnFailure"), true),
    dryRun: rule.boolean("dryRun", raw("dryRun"), false),
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

/** One started execution. */
export interface Started {
  job: JobView;
}

/** The health gate's verdict; `job` carries the last state observed. */
export type Health = { healthy: true; seen: string; job: JobView } | { healthy: false; report: string; job: JobView };

/** The primitives a backend gives the orchestrator. Each throws on a service error. */
export interface DeployTarget {
  /** The settings this step asks for, in the same comparable form as the record's Artifact.settings. */
  readonly wantedSettings: string;
  /** The job's record (src/jobs/record.ts), read from the cluster. */
  read(): Promise<JobRecord>;
  /** Puts the new jar where the cluster runs it from; returns where (jarId or jarPath). */
  upload(jar: LocalJar): Promise<{ jarId?: string; jarPath?: string }>;
  /** Not running: start the new version, from `restoreFrom` when given. */
  submit(restoreFrom: string | undefined): Promise<Started>;
  /**
   * Live: stop it (per `mode`) and start the new version. The snapshot it stopped to is reported
   * through onStopped as soon as the old version is down (undefined: stopped without one).
   */
  upgrade(mode: UpgradeMode, onStopped: (previousSavepoint: string | undefined) => void): Promise<Started>;
  /** Whether the started version reaches RUNNING within `startBudgetMs` and stays healthy for `seconds`. */
  health(started: Started, seconds: number, startBudgetMs: number): Promise<Health>;
  /** Cancels the failed new version (when one was started) and starts the previous artifact from `savepoint`. */
  rollback(failed: Started | undefined, savepoint: string | undefined): Promise<Started>;
  /** The new version is healthy: drop what only a rollback needed (older jars). */
  commit(): Promise<void>;
  /** Where the job stands now, for a message after a failure or cancel; reads with its own short timeout, never throws. */
  whereNow(): Promise<string>;
  /** What is left of the step's budget. */
  remainingMs(): number;
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

/** The time a rollback needs (start, RUNNING, health check), kept out of the new version's budget. */
export function rollbackReserveMs(healthCheckSeconds: number, stepBudgetMs: number): number {
  return Math.min(Math.max(60_000, healthCheckSeconds * 1000 + 60_000), Math.floor(stepBudgetMs / 2));
}

/**
 * The deployment as a state machine: read → decide → upload → stop → start → health → done, and
 * after any failure past the stop (a refused start, not RUNNING in its budget, a failed health
 * check) rollback → health. A failed deployment comes back as a FAILED outcome whose `failure` says
 * where the job stands and which savepoint holds the last good state; a cancel throws saying the same.
 */
export async function deploy(target: DeployTarget, jar: LocalJar, inputs: DeployInputs, jobName: string, log: DeployLog, waitForHealth = true): Promise<DeployOutcome> {
  const notes: string[] = [];
  const base: DeployOutcome = { actionResult: "FAILED", jarSha256: jar.sha256, notes };
  const note = (line: string, warn = false) => {
    notes.push(line);
    (warn ? log.warning : log.info)(line);
  };
  let stage = "reading the job";
  let previousSavepoint: string | undefined;
  let stopped = false;
  try {
    const record = await target.read();
    const plan = decide(record, { sha256: jar.sha256, settings: target.wantedSettings }, inputs);
    if (record.health) notes.push(`Health of the live execution now: ${record.health.evidence}.`);
    note(`Plan for job '${jobName}': ${plan.word} — ${plan.why}.`);
    if (inputs.dryRun) {
      note(`dryRun: nothing was changed. The jar would be ${jar.path} (SHA-256 ${jar.sha256}); upgradeMode ${inputs.upgradeMode}.`);
      return { ...base, actionResult: "SUCCESS", deployAction: `plan:${ACTION_OF[plan.word]}`, job: record.job };
    }
    if (plan.word === "unchanged") return { ...base, actionResult: "SUCCESS", deployAction: "unchanged", job: record.job };
    const reserve = plan.rollbackTo ? rollbackReserveMs(inputs.healthCheckSeconds, target.remainingMs()) : 0;
    stage = "uploading the jar";
    Object.assign(base, await target.upload(jar));
    const action = ACTION_OF[plan.word];
    let started: Started | undefined;
    let failed: string | undefined;
    let failedJob: JobView | undefined;
    if (plan.word === "submit") {
      stage = "starting the job";
      started = await target.submit(plan.restoreFrom?.path);
    } else {
      stage = "stopping the running version";
      try {
        started = await target.upgrade(plan.mode, (savepoint) => {
          stopped = true;
          previousSavepoint = savepoint;
          if (savepoint) base.previousSavepoint = savepoint;
          stage = "starting the new version";
        });
      } catch (error) {
        // Before the stop, nothing changed: the error is the step's. After it, the old version must come back.
        // A target may find the old version never stopped after all (the service refused the upgrade): then nothing is to be brought back.
        if ((error as { oldVersionRuns?: boolean }).oldVersionRuns) stopped = false;
        if (!stopped || error instanceof CancelledError || error instanceof InputError) throw error;
        failed = `The new version of job '${jobName}' did not start: ${(error as Error).message}`;
        failedJob = (error as { job?: JobView }).job;
      }
    }
    if (started && !waitForHealth) {
      log.warning("waitForCompletion is false: the health gate is skipped, and a failing new version will not be rolled back.");
      return { ...base, actionResult: "IN_PROGRESS", deployAction: action, job: started.job };
    }
    if (started) {
      stage = "checking the new version's health";
      const health = await target.health(started, inputs.healthCheckSeconds, Math.max(10_000, target.remainingMs() - reserve));
      if (health.healthy) {
        note(`The new version is healthy: ${health.seen}.`);
        stage = "removing what only a rollback needed";
        await target.commit();
        return { ...base, actionResult: "SUCCESS", deployAction: action, job: health.job };
      }
      note(`Health check failed: ${health.report}.`, true);
      failed = `The new version of job '${jobName}' failed its health check: ${health.report}`;
      failedJob = health.job;
    }
    const job = failedJob ?? started?.job ?? record.job;
    const lastGood = previousSavepoint ? `Savepoint ${previousSavepoint} holds the last good state (taken before the upgrade).` : "";
    if (!plan.rollbackTo) {
      const reason = !inputs.rollbackOnFailure
        ? "rollbackOnFailure is false"
        : plan.word !== "upgrade" || record.health?.healthy !== true
          ? "There was no healthy previous version to roll back to"
          : `It cannot be rolled back: ${record.rollbackImpossibleBecause ?? "the previous version's jar is not known"}`;
      const where = await target.whereNow();
      return { ...base, deployAction: action, job, failure: `${failed}. ${reason}: the new version is left as it is. Where the job stands: ${where}. ${lastGood}`.trim() };
    }
    log.warning(`${failed}. Rolling back to the previous version${previousSavepoint ? ` from savepoint ${previousSavepoint}` : " without state"}.`);
    stage = "rolling back";
    let back: Health;
    try {
      const restarted = await target.rollback(started, previousSavepoint);
      stage = "checking the previous version's health";
      back = await target.health(restarted, inputs.healthCheckSeconds, Math.max(10_000, target.remainingMs()));
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      back = { healthy: false, report: (error as Error).message, job };
    }
    if (!back.healthy) {
      const where = await target.whereNow();
      return { ...base, deployAction: action, job: back.job, failure: `${failed}. The rollback failed too: ${back.report}. Where the job stands: ${where}. ${lastGood}`.trim() };
    }
    note(`The previous version is healthy again: ${back.seen}.`);
    return {
      ...base,
      deployAction: "rolledBack",
      job: back.job,
      failure: `${failed}. Rolled back: the previous version runs again (${describe(back.job)})${previousSavepoint ? `, restored from savepoint ${previousSavepoint}` : ""}.`,
    };
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = (error as Error).message;
    if (!stopped && !(error instanceof CancelledError)) throw Object.assign(error as Error, { deploy: base });
    // A cancel, or a failure once the old version is stopped: say where the job stands.
    const where = await target.whereNow();
    const text = `${message}${message.includes(stage) ? "" : ` (while ${stage})`}. Where the job stands: ${where}. ${previousSavepoint ? `Savepoint ${previousSavepoint} holds the last good state (taken before the upgrade).` : ""}`.trim();
    const wrapped = error instanceof CancelledError ? new CancelledError(text) : Object.assign(new Error(text), { name: (error as Error).name });
    throw Object.assign(wrapped, { deploy: base, ...((error as { job?: JobView }).job ? { job: (error as { job?: JobView }).job } : {}) });
  }
}

function describe(job: JobView): string {
  return [job.jobId ? `JobID ${job.jobId}` : undefined, job.jobStatus].filter(Boolean).join(", ") || "state unknown";
}
