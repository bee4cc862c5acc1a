import { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import axios, { type AxiosResponse } from "axios";
import { AmbiguousRequestError, ConnectionError } from "../../errors";
import { sleep } from "../../util/abort";
import { type Logger, silentLogger } from "../../util/logger";
import { type AccessProblem, accessMessage, type FlinkAccess, restPathOf } from "./connection";

/**
 * A small client for a Flink JobManager's REST API. Flink has no request id, so every error names
 * the call (method and path) and says what Flink said (`errors[]`, status). Answers are checked
 * for the shape Flink documents: an HTML page or a stranger's JSON is an error naming the URL,
 * never an empty list.
 */

export interface FlinkRestClientOptions {
  /** The connection's REST URL; any path prefix (an ingress route) is kept. */
  baseUrl: string;
  basicAuth?: { username: string; password: string };
  /** The Authorization header of each request (a bearer token), asked for per request so a token can renew. */
  authorization?: () => Promise<string>;
  /** The connection and its scheme, for the messages of a refusal. */
  access?: FlinkAccess;
  /** Carries the agent's proxy and CA settings (https URLs, or http through a proxy). */
  agent?: HttpsAgent | HttpAgent;
  userAgent: string;
  /** One attempt's limit. */
  requestTimeoutMs?: number;
  /** Retries of idempotent calls after a network error or a 502/503/504. */
  maxRetries?: number;
  retryDelayMs?: number;
  logger?: Logger;
}

export interface FlinkCall {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Below the base URL, starting with "/". */
  path: string;
  body?: unknown;
  /** multipart/form-data (jar upload). */
  form?: FormData;
  signal?: AbortSignal;
  /** May be repeated after an ambiguous failure (the call has no effect, or the same effect twice). */
  idempotent: boolean;
}

export interface FlinkAnswer {
  status: number;
  data: unknown;
}

/** Flink answered with an error status. */
export class FlinkRestError extends Error {
  override readonly name = "FlinkRestError";
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    /** Flink's `errors[]`, each cut to what a reader needs (the message and its causes). */
    readonly errors: string[],
  ) {
    super(`Flink answered ${status} to ${method} ${path}: ${errors.length ? errors.join(" | ") : "(no error text)"}`);
  }

  /** Whether any of Flink's error texts contains this (Flink's messages are matched by substring). */
  says(text: string): boolean {
    return this.errors.some((e) => e.toLowerCase().includes(text.toLowerCase()));
  }
}

/** The server answered, but not as Flink does (HTML, a redirect, JSON of another shape). */
export class NotFlinkAnswerError extends Error {
  override readonly name = "NotFlinkAnswerError";
}

/**
 * The gateway or Flink refused who we are (401, 403, a sign-in page, a redirect to another host,
 * a TLS certificate either side): the message names the connection and what to change.
 */
export class FlinkAccessError extends ConnectionError {
  override readonly name = "FlinkAccessError";
}

/** The cluster could not be reached at all. */
export class FlinkUnreachableError extends Error {
  override readonly name = "FlinkUnreachableError";
}

const TRANSIENT_STATUS = new Set([502, 503, 504]);
/** A JobManager failing over answers 500 with these: no leader yet, or the job still being recovered. */
const FAILING_OVER = /UnavailableDispatcherOperationException|JobManager is initializing|leader election|no leader|not the leader/i;

/** An answer that says nothing about the call yet: a gateway's 502-504, or a JobManager failing over. */
function isTransient(response: AxiosResponse<string>): boolean {
  return TRANSIENT_STATUS.has(response.status) || (response.status === 500 && FAILING_OVER.test(response.data ?? ""));
}

export class FlinkRestClient {
  readonly baseUrl: string;
  requestCount = 0;
  private readonly options: Required<Omit<FlinkRestClientOptions, "agent" | "basicAuth" | "authorization">> & Pick<FlinkRestClientOptions, "agent" | "basicAuth" | "authorization">;

  constructor(options: FlinkRestClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const access: FlinkAccess = { connectionId: "(none)", scheme: options.basicAuth ? "Basic" : options.authorization ? "Token" : "None" };
    this.options = { requestTimeoutMs: 60_000, maxRetries: 3, retryDelayMs: 500, logger: silentLogger, access, ...options };
  }

  private refused(problem: AccessProblem): FlinkAccessError {
    return new FlinkAccessError(accessMessage(this.options.access, this.urlOf("/"), problem));
  }

  /** Where a path lives, for messages: the URL without credentials or query. */
  urlOf(path: string): string {
    const url = new URL(this.baseUrl + path);
    url.username = "";
    url.password = "";
    url.search = "";
    return url.toString();
  }

  async call(req: FlinkCall): Promise<FlinkAnswer> {
    const log = this.options.logger;
    const url = this.baseUrl + req.path;
    for (let attempt = 0; ; attempt++) {
      log.debug(`${req.method} ${req.path}${attempt ? ` (retry ${attempt})` : ""}`);
      let response: AxiosResponse<string>;
      // Asked before the request, outside the network retry: a token that cannot be had is the connection's failure.
      const authorization = this.options.authorization ? await this.options.authorization() : undefined;
      try {
        this.requestCount++;
        response = await axios.request<string>({
          method: req.method,
          url,
          data: req.form ?? (req.body === undefined ? undefined : JSON.stringify(req.body)),
          headers: {
            Accept: "application/json",
            ...(req.body !== undefined ? { "Content-Type": "application/json" } : {}),
            "User-Agent": this.options.userAgent,
            ...(authorization ? { Authorization: authorization } : {}),
          },
          ...(this.options.basicAuth ? { auth: this.options.basicAuth } : {}),
          timeout: this.options.requestTimeoutMs,
          signal: req.signal,
          validateStatus: () => true,
          responseType: "text",
          transformResponse: (data: string) => data,
          proxy: false,
          ...(this.options.agent ? (url.startsWith("https:") ? { httpsAgent: this.options.agent } : { httpAgent: this.options.agent }) : {}),
          // Never follow a redirect: credentials must not go to a host the connection does not name.
          maxRedirects: 0,
          maxBodyLength: Infinity,
          maxContentLength: 64 * 1024 * 1024,
        });
      } catch (error) {
        if (req.signal?.aborted) throw req.signal.reason;
        const tls = this.tlsRefusal(error);
        if (tls) throw tls;
        const what = networkErrorText(error);
        if (!req.idempotent) {
          throw new AmbiguousRequestError(`The connection failed during ${req.method} ${req.path} on ${this.urlOf("/")} (${what}); Flink may have received the call`, "", error);
        }
        if (attempt >= this.options.maxRetries) {
          throw new FlinkUnreachableError(`Could not reach Flink at ${this.urlOf("/")} (${req.method} ${req.path}): ${what}`);
        }
        await sleep(this.options.retryDelayMs * 2 ** attempt, req.signal);
        continue;
      }
      log.debug(`${response.status} ${req.method} ${req.path}`);
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, data: this.parseBody(req, response) };
      }
      const transient = isTransient(response);
      if (transient && req.idempotent && attempt < this.options.maxRetries) {
        await sleep(this.options.retryDelayMs * 2 ** attempt, req.signal);
        continue;
      }
      const error = this.toError(req, response);
      // A gateway or a JobManager failing over: no answer about the call yet, as when nothing answers.
      if (transient && req.idempotent) throw new FlinkUnreachableError(`Flink at ${this.urlOf("/")} is unavailable: ${error.message}`);
      if (transient && !req.idempotent) throw new AmbiguousRequestError(error.message, "", error);
      throw error;
    }
  }

  /** A JSON answer of the shape `check` accepts, or NotFlinkAnswerError naming the URL. */
  async json<T>(req: FlinkCall, check: (data: unknown) => T | undefined): Promise<T> {
    const answer = await this.call(req);
    const value = check(answer.data);
    if (value === undefined) {
      throw new NotFlinkAnswerError(`${this.urlOf(req.path)} did not answer ${req.method} ${req.path} as Flink's REST API does: ${preview(answer.data)}`);
    }
    return value;
  }

  private parseBody(req: FlinkCall, response: AxiosResponse<string>): unknown {
    const text = response.data ?? "";
    if (text === "") return undefined;
    const type = String(response.headers["content-type"] ?? "");
    try {
      return JSON.parse(text);
    } catch {
      if (looksLikeSignIn(type, text)) throw this.refused({ kind: "loginPage", where: `an HTML page titled ${JSON.stringify(htmlTitle(text))} for ${req.method} ${req.path}` });
      throw new NotFlinkAnswerError(
        `${this.urlOf(req.path)} answered ${req.method} ${req.path} with ${type || "no content type"}, not Flink's JSON (is the URL the JobManager's REST endpoint?): ${preview(text)}`,
      );
    }
  }

  private toError(req: FlinkCall, response: AxiosResponse<string>): Error {
    if (response.status >= 300 && response.status < 400) {
      const location = String(response.headers["location"] ?? "");
      const target = location ? safeUrl(location, this.baseUrl + req.path) : undefined;
      if (target && target.origin !== new URL(this.baseUrl).origin) {
        return this.refused({ kind: "otherHost", location: `${response.status} to ${target.origin}${target.pathname}` });
      }
      if (target && SIGN_IN_PATH.test(target.pathname)) {
        return this.refused({ kind: "loginPage", where: `${response.status} to ${target.pathname}` });
      }
      return new NotFlinkAnswerError(
        `${this.urlOf(req.path)} redirected ${req.method} ${req.path} (${response.status}${location ? ` to ${location.split("?")[0]}` : ""}); Flink's REST API does not redirect: check the connection's URL`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(response.data ?? "");
    } catch {
      body = undefined;
    }
    const errors = (body as { errors?: unknown } | undefined)?.errors;
    // Only the cluster-wide reads every task starts with: below a real gateway prefix they succeed, so a 404 there is the URL's fault.
    const restPath = [400, 404, 405].includes(response.status) && (req.path === "/config" || req.path === "/jobs/overview") ? restPathOf(this.baseUrl) : undefined;
    if (restPath) {
      const said = Array.isArray(errors) ? errors.map((e) => condense(String(e))).join(" | ") : `${response.status} ${preview(response.data)}`;
      return this.refused({ kind: "restPath", ...restPath, said: `${response.status} to ${req.method} ${req.path}: ${said}` });
    }
    if (Array.isArray(errors) && errors.every((e) => typeof e === "string")) {
      return new FlinkRestError(response.status, req.method, req.path, errors.map(condense).filter(Boolean));
    }
    if (response.status === 401 || response.status === 403) {
      // Flink itself has no authentication: a gateway in front of it answered.
      return this.refused({ kind: "status", status: response.status, challenge: String(response.headers["www-authenticate"] ?? "") });
    }
    return new NotFlinkAnswerError(
      `${this.urlOf(req.path)} answered ${req.method} ${req.path} with ${response.status} and no Flink error body (is the URL the JobManager's REST endpoint?): ${preview(response.data)}`,
    );
  }

  /** A TLS failure is no outage to retry: the server's certificate is untrusted, or ours is refused. */
  private tlsRefusal(error: unknown): FlinkAccessError | undefined {
    const e = error as { code?: string; message?: string };
    const code = e.code ?? "";
    if (SERVER_CERT_CODES.has(code)) return this.refused({ kind: "serverCertificate", code });
    // An https:// URL for an http cluster: OpenSSL reads the HTTP answer as a TLS record.
    if (code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(e.message ?? "")) return this.refused({ kind: "plainHttp" });
    const alert = /alert (bad certificate|certificate unknown|unknown ca|certificate required|handshake failure|certificate expired|certificate revoked|unsupported certificate)/i.exec(e.message ?? "");
    if (alert && (code === "EPROTO" || code.startsWith("ERR_SSL"))) return this.refused({ kind: "clientCertificate", detail: `TLS alert: ${alert[1]}` });
    return undefined;
  }
}

const SERVER_CERT_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Where sign-in flows live (oauth2-proxy, Entra, Keycloak, Dex, …). */
const SIGN_IN_PATH = /\/(oauth2|oauth|login|signin|sign-in|sso|saml|auth|authorize|openid-connect)(\/|$)/i;

function looksLikeSignIn(type: string, text: string): boolean {
  return /html/i.test(type) || /^\s*<(!doctype html|html)/i.test(text) ? /sign.?in|log.?in|password|oauth|<form/i.test(text) : false;
}

function htmlTitle(text: string): string {
  return (/<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1] ?? "").trim().slice(0, 80) || "(untitled)";
}

function safeUrl(location: string, base: string): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

/**
 * One error text of Flink's, cut to what a reader needs. Flink sends whole stack traces whose
 * causes repeat one another ("CompletionException: FlinkRuntimeException: Could not execute
 * application." three times): keep each distinct message once, outermost first, with the class
 * that raised it, and drop the "at …" frames.
 */
export function condense(text: string): string {
  const messages: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("at ") || /^\.\.\. \d+ more$/.test(line) || line === "<Exception on server side:" || line === "End of exception on server side>") continue;
    const isCause = line.startsWith("Caused by: ");
    if (messages.length > 0 && !isCause) continue;
    if (isCause) line = line.slice("Caused by: ".length);
    // Strip the chain of wrapping class names; keep the innermost one with the message.
    let className = "";
    for (let m = QUALIFIED_CLASS.exec(line); m; m = QUALIFIED_CLASS.exec(line)) {
      className = m[1]!.split(".").pop()!;
      line = line.slice(m[0].length);
    }
    const message = line.trim();
    if (!message || messages.some((seen) => seen.includes(message))) continue;
    messages.push(className && !["RestHandlerException", "CompletionException"].includes(className) ? `${className}: ${message}` : message);
  }
  return truncate(messages.join(" ← "), 2000);
}

const QUALIFIED_CLASS = /^((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*): ?/;

function preview(data: unknown): string {
  const text = typeof data === "string" ? data : JSON.stringify(data) ?? "(empty)";
  return truncate(text.replace(/\s+/g, " ").trim() || "(empty)", 200);
}

function networkErrorText(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return [e.code, e.message].filter(Boolean).join(": ") || String(error);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
