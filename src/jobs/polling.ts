/**
 * When to read again. Most actions finish in seconds, a few take minutes: read every second at
 * first, then let the gap grow with the time already waited (an eleventh of it) up to the user's
 * `pollingIntervalInSeconds`. A 10-minute action then costs 79 ARM calls in all, and an action is seen
 * within 2 s of its end in the first 11 s and within 6.5 s at one minute.
 */
export class PollingSchedule {
  private readonly startedAt: number;

  constructor(
    private readonly maxIntervalMs: number,
    private readonly minIntervalMs = Math.min(1000, maxIntervalMs),
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  nextDelayMs(): number {
    const elapsed = this.now() - this.startedAt;
    return Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, this.minIntervalMs + elapsed / 11));
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }
}
