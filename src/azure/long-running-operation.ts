import { OperationFailedError } from "../errors";
import { sleep } from "../util/abort";
import type { ArmClient, ArmResponse } from "./arm-client";
import { boundedWait, retryAfterMs, SERVER_WAIT_BOUNDS } from "./arm-client";

export type OperationOutcome =
  /** The operation reported Succeeded (or the service answered synchronously). */
  | { kind: "succeeded"; body: unknown; requestId: string | undefined }
  /** 202 without a status URL: nothing to poll, the job record is the only witness. */
  | { kind: "accepted"; requestId: string | undefined };

export interface PollOperationOptions {
  signal?: AbortSignal;
  /** Delay before the next poll when the service sets no Retry-After. */
  nextDelayMs: () => number;
  /**
   * Bounds for a Retry-After on the operation (pass the polling bounds): at least minDelayMs, so
   * `Retry-After: 0` is no busy loop; at most maxDelayMs, so a huge value neither overflows the
   * timer nor hides the result. Defaults: 1 s and SERVER_WAIT_BOUNDS.maxMs.
   */
  minDelayMs?: number;
  maxDelayMs?: number;
  onStatus?: (status: string) => void;
}

const MIN_POLL_DELAY_MS = 1_000;
const TERMINAL_FAILURES = new Set(["failed", "canceled", "cancelled"]);

/**
 * Follows an ARM asynchronous operation the way the Azure SDKs do: `Azure-AsyncOperation` first
 * (its body carries `status`), else `Location` (202 until done); each URL used verbatim, since it
 * already carries api-version and signature parameters.
 */
export async function pollOperation(
  client: ArmClient,
  initial: ArmResponse,
  options: PollOperationOptions,
): Promise<OperationOutcome> {
  if (initial.status !== 202) {
    return { kind: "succeeded", body: initial.data, requestId: initial.requestId };
  }
  const asyncOperationUrl = initial.headers["azure-asyncoperation"];
  let url = asyncOperationUrl ?? initial.headers["location"];
  if (!url) return { kind: "accepted", requestId: initial.requestId };
  const mode = asyncOperationUrl ? "status" : "location";

  let last: ArmResponse = initial;
  for (;;) {
    const asked = retryAfterMs(last.headers);
    const delay = asked === undefined ? options.nextDelayMs() : boundedWait(asked, options.minDelayMs ?? MIN_POLL_DELAY_MS, options.maxDelayMs ?? SERVER_WAIT_BOUNDS.maxMs);
    await sleep(delay, options.signal);
    // Two retries: when the status URL keeps failing, the caller turns to the job record.
    last = await client.request({ method: "GET", url, idempotent: true, signal: options.signal, maxRetries: 2 });
    if (mode === "location") {
      if (last.status === 202) {
        url = last.headers["location"] ?? url;
        options.onStatus?.("Accepted");
        continue;
      }
      return { kind: "succeeded", body: last.data, requestId: last.requestId };
    }
    const body = (last.data ?? {}) as { status?: string; error?: { code?: string; message?: string; target?: string } };
    const status = String(body.status ?? "");
    options.onStatus?.(status);
    if (status.toLowerCase() === "succeeded") {
      return { kind: "succeeded", body, requestId: last.requestId };
    }
    if (TERMINAL_FAILURES.has(status.toLowerCase())) {
      throw new OperationFailedError({
        headline: `The runJob operation ended ${status}:`,
        status: last.status,
        code: body.error?.code ?? `Operation${status}`,
        message: body.error?.message ?? `The operation ended ${status}`,
        target: body.error?.target,
        requestId: last.requestId,
        clientRequestId: last.clientRequestId,
      });
    }
  }
}
