/**
 * Virtual clock: runs `timeScale` times faster than the wall clock and can be pushed forward
 * with advance(), so tests can skip a 12 s NEW or a 10 min OIDC lifetime without waiting.
 * Everything time-dependent in the emulator (job progress, operation status, token expiry of
 * tokens the emulator issues) reads this clock; nothing keeps a timer.
 */
export class VirtualClock {
  private readonly realStart = Date.now();
  private advancedMs = 0;

  constructor(readonly timeScale: number) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  }

  /** Virtual epoch milliseconds. */
  now(): number {
    return this.realStart + (Date.now() - this.realStart) * this.timeScale + this.advancedMs;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advance() takes a non-negative number of ms, got ${ms}`);
    this.advancedMs += ms;
  }

  /** Virtual duration -> real milliseconds (what a client living in real time will wait). */
  toRealMs(virtualMs: number): number {
    return virtualMs / this.timeScale;
  }
}
