import type { IncomingMessage, ServerResponse } from "node:http";

/** What a route handler hands back; the server writes it (or drops the connection instead). */
export interface Reply {
  status: number;
  /** Serialised as JSON, `null` included (runJob's 202 body is the literal `null`). */
  json?: unknown;
  /** Raw text body when not JSON. */
  text?: string;
  headers?: Record<string, string>;
}

export type RouteName =
  | "runJob"
  | "operation"
  | "jobs"
  | "subscriptions"
  | "resourceGroups"
  | "clusterPools"
  | "clusters"
  | "armUnknown"
  | "openid"
  | "token"
  | "oidc"
  | "msi"
  | "control"
  | "unknown";

export const ARM_ROUTES: ReadonlySet<RouteName> = new Set([
  "runJob",
  "operation",
  "jobs",
  "subscriptions",
  "resourceGroups",
  "clusterPools",
  "clusters",
  "armUnknown",
]);

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  rawBody: string;
  /** JSON or form body parsed; undefined when absent or unparsable (see bodyError). */
  body: unknown;
  bodyError?: string;
  route: RouteName;
  params: Record<string, string>;
  /** x-ms-request-id of this response. */
  requestId: string;
}

export function jsonReply(status: number, json: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, json, headers } : { status, json };
}

export function headerMap(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

export function bearerToken(headers: Record<string, string>): string | undefined {
  const h = headers["authorization"];
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
