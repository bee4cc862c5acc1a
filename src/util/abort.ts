/** Timers that respect an AbortSignal and never outlive it. */

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal that aborts when any of the given ones does (AbortSignal.any is Node ≥ 20.3). */
export function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

export function isAbortError(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true && (error === signal.reason || (error as { name?: string })?.name === "AbortError" || (error as { name?: string })?.name === "CanceledError");
}
