/**
 * How many ARM calls a wait makes, computed rather than waited for: the task's own
 * PollingSchedule (src/jobs/polling.ts) driven by an injected clock, stepping through what the
 * task does for an action on an existing job (src/backends/hdinsight-aks/run-action.ts):
 *   read the job list → POST runJob → poll the operation until it has succeeded →
 *   read the job list until the record shows the action's result.
 * The emulator's timing is the same model as emulator/flink/state-machine.ts: the action's result
 * becomes visible staleWindowMs + actionMs after the POST, the operation succeeds operationMs
 * after it.
 */
import { PollingSchedule } from "../../src/jobs/polling";

export interface WaitModel {
  /** How long the action runs on the cluster (after the stale window). */
  actionMs: number;
  /** The emulator's stale window: the record shows the previous result this long after the POST. */
  staleWindowMs: number;
  /** The operation status answers 202 this long after the POST. */
  operationMs: number;
  /** Time each request takes (the clock moves on by this much per call). */
  requestMs?: number;
}

export interface SimulatedWait {
  /** ARM calls, the POST and the read before it included (token requests are not ARM calls). */
  armCalls: number;
  /** ARM calls by kind. */
  byRoute: { jobs: number; runJob: number; operation: number };
  /** Offsets from the POST of every ARM request after it, in ms. */
  requestOffsetsMs: number[];
  /** When (from the POST) the read that sees the result is made. */
  detectedAtMs: number;
  /** detectedAtMs minus the moment the result became visible. */
  latencyMs: number;
}

/** What the simulation needs of a schedule: the next gap, asked at the moment of sleeping. */
export interface Schedule {
  nextDelayMs(): number;
}
export type ScheduleFactory = (now: () => number) => Schedule;

/** The task's schedule at a given pollingIntervalInSeconds (default 10), on the given clock. */
export const taskSchedule =
  (maxIntervalMs = 10_000): ScheduleFactory =>
  (now) =>
    new PollingSchedule(maxIntervalMs, undefined, now);

/** Our tasks: the real PollingSchedule with the default pollingIntervalInSeconds unless told. */
export function simulateTaskWait(model: WaitModel, makeSchedule: ScheduleFactory = taskSchedule()): SimulatedWait {
  const requestMs = model.requestMs ?? 0;
  let t = 0;
  const byRoute = { jobs: 0, runJob: 0, operation: 0 };
  const offsets: number[] = [];
  // The read before the POST (the job exists, so one read).
  byRoute.jobs++;
  t += requestMs;
  // run-action.ts creates the schedule right before the POST.
  const schedule = makeSchedule(() => t);
  const postedAt = t;
  byRoute.runJob++;
  t += requestMs;
  // pollOperation: sleep, then read, until the operation has succeeded (no Retry-After is sent).
  for (;;) {
    t += schedule.nextDelayMs();
    byRoute.operation++;
    offsets.push(t - postedAt);
    const done = t - postedAt >= model.operationMs;
    t += requestMs;
    if (done) break;
  }
  const visibleAt = model.staleWindowMs + model.actionMs;
  for (;;) {
    t += schedule.nextDelayMs();
    byRoute.jobs++;
    offsets.push(t - postedAt);
    const at = t - postedAt;
    t += requestMs;
    if (at >= visibleAt) {
      return { armCalls: byRoute.jobs + byRoute.runJob + byRoute.operation, byRoute, requestOffsetsMs: offsets, detectedAtMs: at, latencyMs: at - visibleAt };
    }
  }
}

/** The baseline: POST, then one read of the job list every periodMs until the result shows. */
export function simulateFixedPeriodWait(model: WaitModel, periodMs = 30_000): SimulatedWait {
  const requestMs = model.requestMs ?? 0;
  const byRoute = { jobs: 0, runJob: 1, operation: 0 };
  const offsets: number[] = [];
  let t = requestMs;
  const visibleAt = model.staleWindowMs + model.actionMs;
  for (;;) {
    t += periodMs;
    byRoute.jobs++;
    offsets.push(t);
    const at = t;
    t += requestMs;
    if (at >= visibleAt) return { armCalls: byRoute.jobs + byRoute.runJob, byRoute, requestOffsetsMs: offsets, detectedAtMs: at, latencyMs: at - visibleAt };
  }
}

/** The most ARM calls any action of up to limitMs makes (actions tried every stepMs). */
export function maxCallsUpTo(limitMs: number, model: Omit<WaitModel, "actionMs">, makeSchedule: ScheduleFactory = taskSchedule(), stepMs = 250): { armCalls: number; actionMs: number } {
  let worst = { armCalls: 0, actionMs: 0 };
  for (let actionMs = 0; actionMs <= limitMs; actionMs += stepMs) {
    const { armCalls } = simulateTaskWait({ ...model, actionMs }, makeSchedule);
    if (armCalls > worst.armCalls) worst = { armCalls, actionMs };
  }
  return worst;
}

/** ARM calls made within the first windowMs after the POST of an action longer than that (the read before it and the POST included). */
export function callsWithin(windowMs: number, model: Omit<WaitModel, "actionMs">, makeSchedule: ScheduleFactory = taskSchedule()): number {
  const wait = simulateTaskWait({ ...model, actionMs: windowMs * 2 }, makeSchedule);
  return 2 + wait.requestOffsetsMs.filter((at) => at <= windowMs).length;
}
