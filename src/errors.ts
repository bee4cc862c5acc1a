/**
 * The failures a user can meet, each with the message they read in the step's log. Every class
 * carries enough to act on: the input that is wrong, or what the service said and its request id.
 */
import type { JobView } from "./jobs/backend";

/** A pipeline input is invalid. Always raised before any network call. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`Input '${input}': ${problem}`);
  }
}

/** The service connection is incomplete or no token could be obtained with it. */
export class ConnectionError extends Error {
  override readonly name: string = "ConnectionError";
}

export interface ArmErrorDetails {
  status: number;
  code: string;
  message: string;
  requestId?: string;
  clientRequestId?: string;
  target?: string;
  method?: string;
  url?: string;
  /** What happened, when not "Azure Resource Manager returned <status>". */
  headline?: string;
}

/** Azure Resource Manager answered with an error (or the operation it started failed). */
export class ArmError extends Error {
  override readonly name: string = "ArmError";
  readonly status: number;
  readonly code: string;
  readonly serviceMessage: string;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  readonly target: string | undefined;

  constructor(details: ArmErrorDetails) {
    const where = details.method && details.url ? ` (${details.method} ${describeUrl(details.url)})` : "";
    const ids = [
      details.requestId ? `request id ${details.requestId}` : undefined,
      details.clientRequestId ? `client request id ${details.clientRequestId}` : undefined,
    ].filter(Boolean);
    super(
      `${details.headline ?? `Azure Resource Manager returned ${details.status}`} ${details.code}: ${details.message}${where}` +
        (ids.length ? ` [${ids.join(", ")}]` : ""),
    );
    this.status = details.status;
    this.code = details.code;
    this.serviceMessage = details.message;
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.target = details.target;
  }
}

/** The long-running operation that runJob started ended Failed or Canceled: the service refused the action. */
export class OperationFailedError extends ArmError {
  override readonly name = "OperationFailedError";
}

/**
 * The request may or may not have reached the service (connection dropped, timed out, or a 5xx
 * on a non-idempotent call). Callers that posted an action must find out from the job record.
 */
/**
 * The service answered a request that must not be repeated blindly (a POST) with 429 or 503: it
 * refused it. The caller checks what the service shows, then may send it again after `retryAfterMs`.
 */
export class RequestRefusedError extends Error {
  override readonly name = "RequestRefusedError";
  constructor(
    readonly refusal: ArmError,
    /** The service's Retry-After, bounded; undefined when it gave none. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(refusal.message, { cause: refusal });
  }
}

export class AmbiguousRequestError extends Error {
  override readonly name = "AmbiguousRequestError";
  constructor(
    message: string,
    readonly clientRequestId: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/**
 * The service answered, but not in the shape it documents (an HTML page, `{"value": null}`, a
 * redirect). Never read as "nothing there": a wait retries it, anything else fails with it.
 */
export class MalformedAnswerError extends Error {
  override readonly name = "MalformedAnswerError";
}

/** The action ended FAILED on the cluster. */
export class ActionFailedError extends Error {
  override readonly name = "ActionFailedError";
}

/** The wait ended before the action's result was known. The action may still complete. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  constructor(
    message: string,
    /** The job as last seen: its outputs are set even though the result is unknown. */
    readonly job?: JobView,
  ) {
    super(message);
  }
}

/** The pipeline was cancelled while we waited. The action may continue on the cluster. */
export class CancelledError extends Error {
  override readonly name = "CancelledError";
  constructor(
    message: string,
    readonly job?: JobView,
  ) {
    super(message);
  }
}

/** A precondition on the job failed (not found, another action in progress, unknown savepoint). */
export class JobStateError extends Error {
  override readonly name = "JobStateError";
}

/** Path and api-version only: operation URLs carry signatures that have no place in a log. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const apiVersion = u.searchParams.get("api-version");
    return u.pathname + (apiVersion ? `?api-version=${apiVersion}` : "");
  } catch {
    return "<invalid url>";
  }
}
