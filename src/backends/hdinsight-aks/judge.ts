/**
 * "Is it done?" for one runJob action, as a pure function: the records read before the POST, the
 * records read now, what the operation said, and the clock, in; a verdict out. No network, no
 * timers: the wait (run-action.ts) feeds it, tests call it case by case.
 *
 * The service's list lags behind the action (the stale window: the record still shows the
 * previous action's result for a while), lists records in no documented order, and may hold
 * several records of one name. So a record counts as this action's result only when it shows
 * that it changed since the POST: a new record (NEW), a different record, or this action seen
 * IN_PROGRESS first. An unchanged record never does, however long it stays unchanged.
 */
import type { JobAction } from "../../jobs/backend";
import { ACTIONS } from "./actions";
import { fingerprint, isLive, isSilent, isTerminal, type JobRecord, recordKey, recordsNamed } from "./job-record";

/** What the runJob operation has told so far. */
export type OperationState = "pending" | "succeeded" | "unknown";

/** Fixed for one action: what it is and what the records looked like before it was posted. */
export interface JudgeContext {
  action: JobAction;
  jobName: string;
  /** Records of the job's name read just before the POST. */
  before: JobRecord[];
  /** Key (runId, else id) of the record the action is aimed at; absent for NEW. */
  targetKey?: string;
  /** The API has run ids, so a record's key tells records of one name apart. */
  byRunId: boolean;
  /** How long a record of this action may show no status and no result before we stop waiting. */
  silentLimitMs: number;
}

/** What the judge remembers between reads. Start with `{}`. */
export interface JudgeMemory {
  /** This action was seen IN_PROGRESS on the record: its next terminal result is ours. */
  seenInProgress?: boolean;
  /** Reads in a row where the record was not listed. */
  absentReads?: number;
  /** The record last seen (for messages). */
  lastSeen?: JobRecord;
  /** When the record was first seen with no status and no result. */
  silentSince?: number;
}

export type Verdict =
  | { kind: "done"; result: "SUCCESS" | "FAILED"; record: JobRecord | undefined }
  | { kind: "waiting"; record: JobRecord | undefined; why: string }
  /** The record shows no status and no result for longer than the limit: no verdict will come. */
  | { kind: "silent"; record: JobRecord; forMs: number };

/** The record this action is about, in a read; undefined when it is not (yet, or any more) listed. */
export function ourRecord(context: JudgeContext, records: JobRecord[]): JobRecord | undefined {
  const named = recordsNamed(records, context.jobName);
  const beforeKeys = new Set(context.before.map(recordKey));
  const beforePrints = new Set(context.before.map(fingerprint));
  const isNew = (r: JobRecord) => (context.byRunId && r.properties.runId ? !beforeKeys.has(recordKey(r)) : !beforePrints.has(fingerprint(r)));
  if (ACTIONS[context.action].createsRecord) {
    const fresh = named.filter(isNew);
    return fresh.find(isLive) ?? fresh[0];
  }
  if (context.byRunId && context.targetKey) return named.find((r) => recordKey(r) === context.targetKey);
  // No run ids: the records of the name look alike by key; the one that changed is ours.
  const changed = named.filter((r) => !beforePrints.has(fingerprint(r)));
  if (changed.length) return changed.find((r) => r.properties.action === context.action) ?? changed[0];
  const target = context.before.find((r) => recordKey(r) === context.targetKey);
  return target ? named.find((r) => fingerprint(r) === fingerprint(target)) : named[0];
}

/** The record's state before the POST (for the same record), if it was listed then. */
function beforeOf(context: JudgeContext, record: JobRecord): JobRecord | undefined {
  if (context.byRunId && record.properties.runId) return context.before.find((r) => recordKey(r) === recordKey(record));
  return context.before.find((r) => fingerprint(r) === fingerprint(record)) ?? context.before.find((r) => recordKey(r) === context.targetKey);
}

export function judge(
  context: JudgeContext,
  memory: JudgeMemory,
  observation: { records: JobRecord[]; operation: OperationState; now: number },
): { verdict: Verdict; memory: JudgeMemory } {
  const spec = ACTIONS[context.action];
  const record = ourRecord(context, observation.records);
  if (!record) {
    const absentReads = (memory.absentReads ?? 0) + 1;
    const next = { ...memory, absentReads };
    // DELETE succeeds when the record is gone; two reads in a row rule out a passing gap.
    if (spec.removesRecord && absentReads >= 2) return { verdict: { kind: "done", result: "SUCCESS", record: undefined }, memory: next };
    const why = spec.createsRecord ? "the new job's record is not listed yet" : "the job's record is not listed";
    return { verdict: { kind: "waiting", record: memory.lastSeen, why }, memory: next };
  }
  const next: JudgeMemory = { ...memory, absentReads: 0, lastSeen: record };
  const p = record.properties;
  const fresh = spec.createsRecord === true;
  const previous = fresh ? undefined : beforeOf(context, record);
  const changed = fresh || previous === undefined || fingerprint(record) !== fingerprint(previous);

  if (isSilent(record) && (fresh || (changed && p.action === context.action))) {
    const silentSince = memory.silentSince ?? observation.now;
    next.silentSince = silentSince;
    const forMs = observation.now - silentSince;
    if (forMs >= context.silentLimitMs) return { verdict: { kind: "silent", record, forMs }, memory: next };
    return { verdict: { kind: "waiting", record, why: "the record shows no status and no actionResult" }, memory: next };
  }
  next.silentSince = undefined;
  if (p.action !== context.action) return { verdict: { kind: "waiting", record, why: `the record still shows the previous action (${p.action ?? "none"})` }, memory: next };
  if (p.actionResult === "IN_PROGRESS") {
    next.seenInProgress = true;
    return { verdict: { kind: "waiting", record, why: "IN_PROGRESS" }, memory: next };
  }
  if (!isTerminal(p.actionResult)) return { verdict: { kind: "waiting", record, why: `actionResult ${p.actionResult ?? "absent"}` }, memory: next };
  if (changed || memory.seenInProgress) return { verdict: { kind: "done", result: p.actionResult, record }, memory: next };
  // Listing twice gives the same text: a read-only action is done once its operation is.
  if (spec.readOnly && observation.operation === "succeeded") return { verdict: { kind: "done", result: p.actionResult, record }, memory: next };
  return { verdict: { kind: "waiting", record, why: "the record has not changed since before the action was posted" }, memory: next };
}

/**
 * After an ambiguous POST: does any record of the name show that the action was accepted? Every
 * record of the name is read, not only the one aimed at (the list's order is not documented).
 */
export function showsAcceptance(context: JudgeContext, records: JobRecord[]): boolean {
  const named = recordsNamed(records, context.jobName);
  const beforeByKey = new Map(context.before.map((r) => [recordKey(r), fingerprint(r)]));
  const beforePrints = new Set(context.before.map(fingerprint));
  if (ACTIONS[context.action].createsRecord) return ourRecord(context, records) !== undefined;
  return named.some((r) => {
    if (r.properties.action !== context.action) return false;
    const was = context.byRunId && r.properties.runId ? beforeByKey.get(recordKey(r)) : undefined;
    return was !== undefined ? was !== fingerprint(r) : !beforePrints.has(fingerprint(r));
  });
}
