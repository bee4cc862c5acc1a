/**
 * Which of a job's savepoints a prune removes (FlinkSavepoint prune, FlinkJobDeploy's
 * retainSavepoints), whatever the cluster: every backend dates and protects its savepoints its
 * own way, then removes what this chooses, one by one.
 */
import type { RawInputs } from "./backend";
import * as rule from "../validation/rules";

export interface Retention {
  /** How many of the newest to keep. */
  keepLast: number;
  /** Savepoints older than this many days go too (beyond the protected ones). */
  maxAgeDays?: number;
}

/** `keepLast` (FlinkSavepoint prune, default 5) or Deploy's `retainSavepoints`, and `maxAgeDays` with keepLast. */
export function retentionInputs(raw: RawInputs, countInput: "keepLast" | "retainSavepoints", fallback?: number): Retention {
  const keepLast = rule.integer(countInput, raw(countInput), { min: 0, max: 10_000, ...(fallback !== undefined ? { fallback } : {}) });
  const age = (raw("maxAgeDays") ?? "").trim();
  return { keepLast, ...(age && countInput === "keepLast" ? { maxAgeDays: rule.integer("maxAgeDays", age, { min: 1, max: 36_500 }) } : {}) };
}

/**
 * The savepoints to remove, from `newestFirst` (each with its name and completion time in ms):
 * those beyond the newest `keepLast` or older than `maxAgeDays` at `now`, never a protected one.
 */
export function chooseRemovals<T extends { name: string; millis: number }>(newestFirst: T[], protectedNames: ReadonlyMap<string, string>, retention: Retention, now: number): T[] {
  const oldest = retention.maxAgeDays !== undefined ? now - retention.maxAgeDays * 86_400_000 : undefined;
  return newestFirst.filter((e, i) => !protectedNames.has(e.name) && (i >= retention.keepLast || (oldest !== undefined && e.millis < oldest)));
}
