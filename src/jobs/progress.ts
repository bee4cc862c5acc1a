/**
 * Progress of a long wait, in the log without System.Debug: what is awaited, the state seen, the
 * time spent and left. Every wait reports each read through WaitOptions.onProgress; this decides
 * which reads a reader sees: none in the first seconds (a quick action stays quiet), then one when
 * the state changes and at least QUIET_MS passed, and one every HEARTBEAT_MS whatever happens.
 */
import type { Logger } from "../util/logger";

/** The first line after this long: shorter waits print nothing between start and end. */
export const FIRST_AFTER_MS = 10_000;
/** A changed state is told no more often than this. */
export const QUIET_MS = 15_000;
/** An unchanged state is told again after this long, so a reader knows the task still works. */
export const HEARTBEAT_MS = 30_000;

/** The callback WaitOptions.onProgress takes: the state seen and, where the wait knows it, what it awaits. */
export type ProgressCallback = (seen: string, awaiting?: string) => void;

export function progressReporter(logger: Logger, timeoutMs: number, now: () => number = Date.now): ProgressCallback {
  const started = now();
  let lastShown: { at: number; text: string } | undefined;
  return (seen, awaiting) => {
    const at = now();
    const elapsed = at - started;
    const what = awaiting ? `${awaiting.replace(/^waiting for /i, "")}` : "the action's result";
    const text = `${what}: ${seen}`;
    logger.debug(`Waiting: ${text}`);
    if (elapsed < FIRST_AFTER_MS) return;
    const since = lastShown ? at - lastShown.at : Infinity;
    const changed = lastShown?.text !== text;
    if (since < (changed ? QUIET_MS : HEARTBEAT_MS)) return;
    lastShown = { at, text };
    const left = Math.max(0, timeoutMs - elapsed);
    logger.info(`Waiting for ${text} (${clock(elapsed)} elapsed, ${clock(left)} left of waitTimeoutInMinutes)`);
  };
}

/** 75 000 → "1 min 15 s"; 9 000 → "9 s". */
export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", rest ? `${rest} s` : ""].filter(Boolean).join(" ");
}
