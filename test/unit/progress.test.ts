import assert from "node:assert/strict";
import { clock, progressReporter } from "../../src/jobs/progress";

/** A logger that keeps what reaches the visible log (info) apart from debug. */
function recorder() {
  const shown: string[] = [];
  const debug: string[] = [];
  return { shown, debug, logger: { info: (m: string) => shown.push(m), warning: (m: string) => shown.push(m), debug: (m: string) => debug.push(m) } };
}

describe("progress of long waits", () => {
  it("says nothing in the first seconds, then what is awaited, the state, elapsed and left, at most every 15-30 s", () => {
    const log = recorder();
    let now = 0;
    const report = progressReporter(log.logger, 5 * 60_000, () => now);
    // A read every 2 s for 2 minutes, the state changing every 6 s.
    for (now = 0; now <= 120_000; now += 2000) report(`INITIALIZING (read ${Math.floor(now / 6000)})`, "waiting for the job to run");
    assert.equal(log.debug.length, 61, "every read reaches the debug log");
    assert.ok(log.shown.length >= 4 && log.shown.length <= 8, `${log.shown.length} lines in 2 minutes`);
    assert.match(log.shown[0]!, /^Waiting for the job to run: INITIALIZING \(read 1\) \(10 s elapsed, 4 min 50 s left of waitTimeoutInMinutes\)$/);
  });

  it("an unchanged state is told again every 30 s, a changed one after 15 s", () => {
    const log = recorder();
    let now = 0;
    const report = progressReporter(log.logger, 60 * 60_000, () => now);
    const at: number[] = [];
    const logged = () => at.push(now);
    for (now = 0; now <= 100_000; now += 1000) {
      const before = log.shown.length;
      report("RUNNING for 3 of 60 s", "the health check");
      if (log.shown.length > before) logged();
    }
    assert.deepEqual(at, [10_000, 40_000, 70_000, 100_000]);
    const changed = recorder();
    now = 0;
    const report2 = progressReporter(changed.logger, 60 * 60_000, () => now);
    const seen: number[] = [];
    for (now = 0; now <= 60_000; now += 1000) {
      const before = changed.shown.length;
      report2(`state ${now}`);
      if (changed.shown.length > before) seen.push(now);
    }
    assert.deepEqual(seen, [10_000, 25_000, 40_000, 55_000]);
    assert.match(changed.shown[0]!, /^Waiting for the action's result: state 10000/);
  });

  it("writes durations as a reader says them", () => {
    assert.equal(clock(9_000), "9 s");
    assert.equal(clock(75_000), "1 min 15 s");
    assert.equal(clock(3_600_000), "1 h");
  });
});
