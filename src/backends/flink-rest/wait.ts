/**
 * The one wait of the Flink REST tasks (actions.ts and deploy.ts): observe → judge → verdict until
 * the action's deadline. A cluster briefly out of reach (connection refused or reset, a 502/503/504
 * from an ingress, a JobManager failing over) is "not known yet": the wait keeps observing with its
 * bounded backoff and judges from what Flink shows once it answers again, so a savepoint that
 * completed during the outage counts. Only the deadline ends it; then one last read decides.
 */
import type { Deadline } from "../../jobs/deadline";
import type { PollingSchedule } from "../../jobs/polling";
import { sleep } from "../../util/abort";
import type { Logger } from "../../util/logger";
import { FlinkUnreachableError } from "./client";
import type { Verdict } from "./judge";

export type Settled<T> = Exclude<Verdict<T>, { done: false }>;

/** Why an observation gave no answer that can be judged, or undefined when the error is a real one. */
export function notKnownYet(error: unknown): string | undefined {
  return error instanceof FlinkUnreachableError ? error.message : undefined;
}

export interface FlinkWaitOptions {
  deadline: Deadline;
  logger: Logger;
  /** Each observation that is not the end yet (for the pipeline's progress line). */
  onProgress?: (seen: string) => void;
}

/** Observes until a verdict, across outages; remembers what it last saw and how long Flink was out of reach. */
export class FlinkWait {
  /** What the last observation showed, or that the cluster is out of reach and since when. */
  lastSeen = "nothing yet";
  private lastAnswer = "nothing yet";
  private outageSince: number | undefined;
  private outageCause = "";
  /** The longest time, in ms, the cluster stayed out of reach during any wait of this action. */
  longestOutageMs = 0;

  constructor(private readonly options: FlinkWaitOptions) {}

  /** `signal`: the step's (default) or a phase's own shorter one, whose end the caller handles. */
  async until<O, T>(observe: (signal: AbortSignal) => Promise<O>, judge: (o: O) => Verdict<T>, schedule: PollingSchedule, signal?: AbortSignal): Promise<Settled<T>> {
    const { deadline } = this.options;
    const within = signal ?? deadline.signal;
    try {
      for (;;) {
        const verdict = await this.look(observe, judge, within);
        if (verdict?.done) return verdict;
        this.options.onProgress?.(this.lastSeen);
        await sleep(schedule.nextDelayMs(), within);
      }
    } catch (error) {
      if (!deadline.timedOut) throw error;
      // One last look, briefly: the action may have ended while the last read was under way, or while Flink was out of reach.
      const last = await this.look(observe, judge, deadline.lastLookSignal()).catch(() => undefined);
      if (last?.done) return last;
      throw error;
    }
  }

  /**
   * One observation, for a caller that judges it itself (Deploy's health gate): `answered` false while
   * the cluster is out of reach (then `lastSeen` says for how long); any other error is thrown.
   */
  async once<O>(observe: (signal: AbortSignal) => Promise<O>, signal: AbortSignal = this.options.deadline.signal): Promise<{ answered: true; value: O } | { answered: false }> {
    try {
      return { answered: true, value: await observe(signal) };
    } catch (error) {
      const cause = signal.aborted ? undefined : notKnownYet(error);
      if (cause === undefined) throw error;
      this.outageSince ??= Date.now();
      this.outageCause = cause;
      this.lastSeen = `Flink out of reach for ${this.seconds(Date.now() - this.outageSince)} (${cause}); before that: ${this.lastAnswer}`;
      return { answered: false };
    }
  }

  /** One observation judged; undefined while the cluster is out of reach. */
  private async look<O, T>(observe: (signal: AbortSignal) => Promise<O>, judge: (o: O) => Verdict<T>, signal: AbortSignal): Promise<Verdict<T> | undefined> {
    const observed = await this.once(observe, signal);
    if (!observed.answered) return undefined;
    const verdict = judge(observed.value);
    this.answered(verdict.seen);
    return verdict;
  }

  /** Flink answered and showed `seen`: ends an outage (saying how long it lasted). */
  answered(seen: string): void {
    if (this.outageSince !== undefined) {
      const ms = Date.now() - this.outageSince;
      this.longestOutageMs = Math.max(this.longestOutageMs, ms);
      this.options.logger.warning(`Flink was out of reach for ${this.seconds(ms)} (${this.outageCause}); it answers again: ${seen}.`);
      this.outageSince = undefined;
    }
    this.lastAnswer = seen;
    this.lastSeen = seen;
  }

  private seconds(ms: number): string {
    return `${Math.round(ms / 1000)} s`;
  }
}
