import { randomUUID } from "node:crypto";
import type { Agent as HttpsAgent } from "node:https";
import axios, { type AxiosResponse } from "axios";
import type { TokenCredential } from "@azure/core-auth";
import { AmbiguousRequestError, ArmError, ConnectionError, describeUrl, RequestRefusedError } from "../errors";
import { sleep } from "../util/abort";
import { type Logger, silentLogger } from "../util/logger";

export interface ArmClientOptions {
  /** Resource Manager base URL, from the service connection. */
  baseUrl: string;
  credential: TokenCredential;
  /** Token scope, `<resource>/.default`. */
  scope: string;
  userAgent: string;
  /** One attempt's limit. */
  requestTimeoutMs?: number;
  /** Retries of throttled (429) and transient (408, 5xx, network) failures. */
  maxRetries?: number;
  /** First backoff step when the service gives no Retry-After. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** The longest Retry-After honoured; a longer one is cut to this (see SERVER_WAIT_BOUNDS). */
  maxRetryAfterMs?: number;
  /** Carries the agent's proxy and CA settings. */
  httpsAgent?: HttpsAgent;
  logger?: Logger;
}

export interface ArmRequest {
  method: "GET" | "POST";
  /** Absolute URL (used verbatim) or a path below the base URL. */
  url: string;
  body?: unknown;
  signal?: AbortSignal;
  /**
   * Whether the request may be repeated after an ambiguous failure. A POST that starts an action
   * is not: after a dropped connection or a 5xx the action may have been accepted.
   */
  idempotent: boolean;
  /** Fewer retries than the client's default, where another source can answer instead. */
  maxRetries?: number;
}

export interface ArmResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  data: T;
  requestId: string | undefined;
  clientRequestId: string;
}

const TRANSIENT_STATUS = new Set([408, 500, 502, 503, 504]);

/**
 * Bounds for any wait a server asks for (Retry-After and its variants). Without them,
 * `Retry-After: 999999999` overflows Node's timer (anything over 2^31-1 ms fires after 1 ms) into
 * a busy loop, and a huge but representable value stalls the step until its deadline.
 */
export const SERVER_WAIT_BOUNDS = { minMs: 0, maxMs: 60_000 } as const;

/** `ms` within [minMs, maxMs]; a value that is not a number counts as the minimum. */
export function boundedWait(ms: number, minMs: number, maxMs: number): number {
  return Number.isFinite(ms) ? Math.min(maxMs, Math.max(minMs, ms)) : ms === Infinity ? maxMs : minMs;
}

/**
 * A small Resource Manager client: a token per request, retries with backoff that honour
 * Retry-After, a per-attempt timeout, request ids in every error.
 */
export class ArmClient {
  readonly baseUrl: string;
  private readonly options: Required<Omit<ArmClientOptions, "httpsAgent">> & { httpsAgent?: HttpsAgent };
  /** ARM calls made, for the log's closing line and the benchmark. */
  requestCount = 0;

  constructor(options: ArmClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.options = {
      requestTimeoutMs: 60_000,
      maxRetries: 6,
      retryDelayMs: 1_000,
      maxRetryDelayMs: 30_000,
      maxRetryAfterMs: SERVER_WAIT_BOUNDS.maxMs,
      logger: silentLogger,
      ...options,
    };
  }

  resolve(url: string): string {
    return /^https?:\/\//i.test(url) ? url : `${this.baseUrl}${url.startsWith("/") ? "" : "/"}${url}`;
  }

  async request<T = unknown>(req: ArmRequest): Promise<ArmResponse<T>> {
    const url = this.resolve(req.url);
    this.refuseForeignUrl(url);
    const clientRequestId = randomUUID();
    const log = this.options.logger;
    for (let attempt = 0; ; attempt++) {
      const token = await this.getToken(req.signal);
      const started = Date.now();
      log.debug(`${req.method} ${describeUrl(url)} x-ms-client-request-id=${clientRequestId}${attempt ? ` (retry ${attempt})` : ""}`);
      let response: AxiosResponse<string>;
      try {
        this.requestCount++;
        response = await axios.request<string>({
          method: req.method,
          url,
          data: req.body === undefined ? undefined : JSON.stringify(req.body),
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: "application/json",
            ...(req.body === undefined ? {} : { "Content-Type": "application/json" }),
            "User-Agent": this.options.userAgent,
            "x-ms-client-request-id": clientRequestId,
          },
          timeout: this.options.requestTimeoutMs,
          signal: req.signal,
          validateStatus: () => true,
          responseType: "text",
          transformResponse: (data: string) => data,
          proxy: false,
          httpsAgent: this.options.httpsAgent,
          maxRedirects: 0,
        });
      } catch (error) {
        if (req.signal?.aborted) throw req.signal.reason;
        const what = networkErrorText(error);
        log.debug(`${req.method} ${describeUrl(url)} failed after ${Date.now() - started} ms: ${what}`);
        if (!req.idempotent) {
          throw new AmbiguousRequestError(
            `The connection failed during ${req.method} ${describeUrl(url)} (${what}); the service may have received the request`,
            clientRequestId,
            error,
          );
        }
        if (attempt >= (req.maxRetries ?? this.options.maxRetries)) {
          throw new ArmError({ status: 0, code: "NetworkError", message: what, clientRequestId, method: req.method, url });
        }
        await sleep(this.backoff(attempt), req.signal);
        continue;
      }

      const headers = lowerCaseHeaders(response.headers);
      const requestId = headers["x-ms-request-id"];
      log.debug(`${response.status} in ${Date.now() - started} ms x-ms-request-id=${requestId ?? "-"}`);
      if (response.status < 400) {
        return { status: response.status, headers, data: parseJson(response.data) as T, requestId, clientRequestId };
      }

      const error = toArmError(response.status, response.data, headers, clientRequestId, req.method, url);
      const throttled = response.status === 429;
      const transient = TRANSIENT_STATUS.has(response.status);
      const asked = retryAfterMs(headers);
      const retryAfter = asked === undefined ? undefined : boundedWait(asked, SERVER_WAIT_BOUNDS.minMs, this.options.maxRetryAfterMs);
      if ((throttled || response.status === 503) && !req.idempotent) {
        // Answered "too many" or "unavailable": refused, not lost. The caller re-reads before sending it again.
        throw new RequestRefusedError(error, retryAfter);
      }
      if (transient && !req.idempotent) {
        // Any other 5xx on a POST (a gateway's 502/504, a 500) does not prove the action was refused: let the caller check the job.
        throw new AmbiguousRequestError(error.message, clientRequestId, error);
      }
      if ((!throttled && !transient) || attempt >= (req.maxRetries ?? this.options.maxRetries)) throw error;
      const delay = retryAfter ?? this.backoff(attempt);
      log.debug(`${throttled ? "Throttled" : "Transient failure"}: retrying in ${Math.round(delay)} ms${retryAfter !== undefined ? " (Retry-After)" : ""}`);
      await sleep(delay, req.signal);
    }
  }

  /**
   * The bearer token goes to the Resource Manager host over HTTPS and nowhere else: a nextLink,
   * Location or Azure-AsyncOperation URL comes from a response and may name any host or scheme.
   */
  private refuseForeignUrl(url: string): void {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new UntrustedUrlError(`Not sending the access token to '${url.slice(0, 200)}': it is not a valid URL`);
    }
    const arm = new URL(this.baseUrl);
    const where = `${target.protocol}//${target.host}${target.pathname}`;
    if (target.protocol !== "https:")
      throw new UntrustedUrlError(`Not sending the access token to ${where}: only https:// is allowed, and the service returned a ${target.protocol}// URL`);
    if (target.host.toLowerCase() !== arm.host.toLowerCase())
      throw new UntrustedUrlError(
        `Not sending the access token to ${where}: the service returned a URL on ${target.host}, not on the Resource Manager host ${arm.host} of the service connection`,
      );
  }

  private async getToken(signal: AbortSignal | undefined): Promise<string> {
    try {
      const token = await this.options.credential.getToken(this.options.scope, { abortSignal: signal });
      if (!token?.token) throw new Error("the credential returned no token");
      return token.token;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ConnectionError) throw error;
      throw new ConnectionError(
        `Could not get an access token for ${this.options.scope} with the service connection: ${firstLine(error)}`,
      );
    }
  }

  /** Exponential with full jitter, capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/** A URL the access token must not be sent to (another host, or not https). Never retried. */
export class UntrustedUrlError extends Error {
  override readonly name = "UntrustedUrlError";
}

/** Retry-After in seconds or as an HTTP date; also the millisecond variants ARM sends. */
export function retryAfterMs(headers: Record<string, string>): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = Number(headers[name]);
    if (headers[name] && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = headers["retry-after"];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function toArmError(
  status: number,
  text: string,
  headers: Record<string, string>,
  clientRequestId: string,
  method: string,
  url: string,
): ArmError {
  const body = parseJson(text) as { error?: { code?: string; message?: string; target?: string } } | undefined;
  const error = body && typeof body === "object" ? body.error : undefined;
  return new ArmError({
    status,
    code: error?.code ?? `HTTP${status}`,
    message: error?.message ?? (text ? truncate(text, 500) : "(no response body)"),
    target: error?.target,
    requestId: headers["x-ms-request-id"],
    clientRequestId,
    method,
    url,
  });
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function lowerCaseHeaders(headers: object): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && value !== null) result[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return result;
}

function networkErrorText(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return [e.code, e.message].filter(Boolean).join(": ") || String(error);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return truncate(text.split(/\r?\n/).filter((l) => l.trim())[0] ?? text, 600);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
