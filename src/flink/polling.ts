/**
 * When to read again. Most actions finish in seconds, a few take minutes: read every second at
 * first, then let the gap grow with the time already waited (a twelfth of it) up to the user's
 * `pollingIntervalInSeconds`. A 10-minute wait then costs about 77 reads, and an action is seen
 * within 2 s of its end in the first 12 s, within 6 s in the first minute.
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
    return Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, this.minIntervalMs + elapsed / 12));
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }
}
