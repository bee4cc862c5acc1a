/**
 * Virtual clock: runs `timeScale` times faster than the wall clock and can be pushed forward
 * with advance(), so tests can skip a 12 s NEW without waiting. Job progress and operation status
 * read now(); nothing keeps a timer.
 *
 * Tokens the emulator issues age on tokenNow(): scaled like now() but moved by advance() only
 * when asked ({ tokens: true }). Clients (MSAL) judge expiry by the wall clock, so letting every
 * skip age tokens would produce 401s no real client could avoid.
 */
export class VirtualClock {
  private readonly realStart = Date.now();
  private advancedMs = 0;
  private tokenAdvancedMs = 0;

  constructor(readonly timeScale: number) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  }

  /** Virtual epoch milliseconds. */
  now(): number {
    return this.realStart + (Date.now() - this.realStart) * this.timeScale + this.advancedMs;
  }

  /** Virtual epoch milliseconds for token issue and expiry. */
  tokenNow(): number {
    return this.realStart + (Date.now() - this.realStart) * this.timeScale + this.tokenAdvancedMs;
  }

  advance(ms: number, opts: { tokens?: boolean } = {}): void {
    if (!(ms >= 0)) throw new Error(`advance() takes a non-negative number of ms, got ${ms}`);
    this.advancedMs += ms;
    if (opts.tokens) this.tokenAdvancedMs += ms;
  }

  /** Virtual duration -> real milliseconds (what a client living in real time will wait). */
  toRealMs(virtualMs: number): number {
    return virtualMs / this.timeScale;
  }
}
