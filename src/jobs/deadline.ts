/**
 * The wait discipline any backend's action shares: one budget for the whole action (pre-checks
 * and POST included), cancellation by the pipeline, and a way to tell the two apart afterwards.
 */
import { CancelledError, WaitTimeoutError } from "../errors";

export class Deadline {
  private readonly timeout = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly endsAt: number;
  /** Aborted when the budget is spent or the pipeline is cancelled. */
  readonly signal: AbortSignal;

  constructor(
    readonly budgetMs: number,
    private readonly cancel?: AbortSignal,
  ) {
    this.endsAt = Date.now() + budgetMs;
    this.timer = setTimeout(() => this.timeout.abort(new Error("the wait's time is up")), budgetMs);
    this.signal = AbortSignal.any(cancel ? [cancel, this.timeout.signal] : [this.timeout.signal]);
  }

  get cancelled(): boolean {
    return this.cancel?.aborted === true;
  }

  get timedOut(): boolean {
    return this.timeout.signal.aborted && !this.cancelled;
  }

  /**
   * The error a step shows when its budget ran out or the pipeline cancelled it while `phase`
   * (undefined when neither happened): the one phase guard every deployment adapter uses.
   */
  interruption(phase: string): CancelledError | WaitTimeoutError | undefined {
    if (this.cancelled) return new CancelledError(`The pipeline was cancelled while ${phase}`);
    if (this.timedOut) return new WaitTimeoutError(`Timed out after ${formatDuration(this.budgetMs)} while ${phase}; raise waitTimeoutInMinutes`);
    return undefined;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** For one last read after the budget is spent: bounded, and still cancellable. */
  lastLookSignal(limitMs = 30_000): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(limitMs), ...(this.cancel ? [this.cancel] : [])]);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  return `${Math.round(ms / 1000)} s`;
}
