/**
 * FlinkJobDeploy's decision, from the job's record alone (no network): submit, upgrade, leave
 * unchanged, or repair, with the snapshot it stops to or restores from and why. The contract's
 * "Rules of a deploy" are this function; dryRun prints what it returns.
 */
import type { Artifact, JobRecord, Snapshot } from "./record";

export const UPGRADE_MODES = ["savepoint", "lastState", "stateless"] as const;
export type UpgradeMode = (typeof UPGRADE_MODES)[number];

export type PlanWord = "submit" | "upgrade" | "unchanged" | "repair";

/** The `deployAction` each plan ends in when it succeeds. */
export const ACTION_OF: Record<PlanWord, "submitted" | "upgraded" | "unchanged" | "repaired"> = {
  submit: "submitted",
  upgrade: "upgraded",
  unchanged: "unchanged",
  repair: "repaired",
};

export interface Wanted {
  /** SHA-256 of the jar this step deploys (hex). */
  sha256: string;
  /** The settings it asks for, in the same comparable form as Artifact.settings. */
  settings: string;
}

export interface Plan {
  word: PlanWord;
  /** How the live execution is stopped (upgrade, repair). */
  mode: UpgradeMode;
  /** Not live: the snapshot the new execution is restored from. */
  restoreFrom?: Snapshot;
  /** What a failure after the stop brings back: the artifact the live execution ran, when it can be started again. */
  rollbackTo?: Artifact;
  /** Why, in one sentence for the log, the summary and dryRun. */
  why: string;
}

/** Whether the record's artifact is the wanted jar: equal hashes, or the digest tied to the execution is the jar's. */
export function sameJar(artifact: Artifact | undefined, sha256: string): boolean {
  return artifact?.sha256 !== undefined && artifact.sha256.length >= 8 && sha256.toLowerCase().startsWith(artifact.sha256.toLowerCase());
}

export function decide(record: JobRecord, wanted: Wanted, options: { upgradeMode: UpgradeMode; rollbackOnFailure: boolean }): Plan {
  const mode = options.upgradeMode;
  const jarSame = sameJar(record.artifact, wanted.sha256);
  const settingsSame = record.artifact?.settings !== undefined && record.artifact.settings === wanted.settings;
  const running = record.job.jobId ? `execution ${record.job.jobId} (${record.job.jobStatus ?? "state unknown"})` : "the job";
  if (!record.live) {
    const restoreFrom = mode === "stateless" ? undefined : record.lastSnapshot;
    const last = record.job.jobId ? `its last execution ${record.job.jobId} ended ${record.job.jobStatus ?? ""}`.trim() : "it has no execution the cluster knows";
    const state = restoreFrom
      ? `; it starts from the ${restoreFrom.kind} ${restoreFrom.path} that execution left`
      : record.lastSnapshot
        ? `; upgradeMode stateless: it starts empty, not from the ${record.lastSnapshot.kind} ${record.lastSnapshot.path}`
        : "; no savepoint or retained checkpoint of it is known, so it starts empty";
    return { word: "submit", mode, ...(restoreFrom ? { restoreFrom } : {}), why: `the job is not running (${last})${state}` };
  }
  const healthy = record.health?.healthy === true;
  const evidence = record.health ? ` (${record.health.evidence})` : "";
  if (jarSame && settingsSame && healthy) {
    return { word: "unchanged", mode, why: `${running} runs this jar with these settings and is healthy${evidence}` };
  }
  if (jarSame && settingsSame) {
    // The live execution runs what is asked but is not healthy: restart it, from its newest retained state unless stateless.
    const repairMode: UpgradeMode = mode === "stateless" ? "stateless" : "lastState";
    return {
      word: "repair",
      mode: repairMode,
      why: `${running} runs this jar with these settings but is not healthy${evidence}: it is restarted ${repairMode === "stateless" ? "without state (upgradeMode stateless)" : "from its newest retained checkpoint or savepoint (a job that is not healthy cannot be trusted to take a savepoint)"}; there is no earlier version to roll back to`,
    };
  }
  const what = jarSame ? "this jar with other settings" : record.artifact?.sha256 ? `another jar (SHA-256 ${record.artifact.sha256}…)` : "a jar these tasks did not record";
  // A job that is not healthy cannot be trusted to take a savepoint, and is nothing to roll back to.
  const upgradeMode: UpgradeMode = !healthy && mode === "savepoint" ? "lastState" : mode;
  const canRollBack = options.rollbackOnFailure && healthy && record.rollbackPossible && record.artifact !== undefined;
  const rollback = !options.rollbackOnFailure
    ? "rollbackOnFailure is false: a failure leaves the new version as it is"
    : !healthy
      ? "it is not healthy, so a failure of the new version has no healthy version to roll back to"
      : record.rollbackPossible
        ? "a failure after the stop starts that execution's jar and settings again from the snapshot taken before the upgrade"
        : `it cannot be rolled back on failure: ${record.rollbackImpossibleBecause ?? "its jar is not known"}`;
  const how =
    upgradeMode === "savepoint"
      ? "stopped with a savepoint the new version starts from"
      : upgradeMode === "lastState"
        ? `cancelled and the new version starts from its newest retained checkpoint${upgradeMode !== mode ? " (not with a savepoint: it is not healthy)" : ""}`
        : "cancelled and the new version starts empty (upgradeMode stateless)";
  return {
    word: "upgrade",
    mode: upgradeMode,
    ...(canRollBack ? { rollbackTo: record.artifact } : {}),
    why: `${running} runs ${what}${healthy ? "" : `, and is not healthy${evidence}`}: it is ${how}; ${rollback}`,
  };
}
