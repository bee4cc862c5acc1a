// The token check behind the "entra" gateway: nginx's auth_request asks it about every request.
// It verifies the bearer JWT as an API protected by Entra ID does: RS256 signature against the
// tenant's signing keys (JWKS), issuer, audience (the gateway's application ID URI), expiry and
// not-before, and optionally an app role. 2xx lets the request through; 401 and 403 carry an
// RFC 6750 WWW-Authenticate header that nginx passes on to the client.
import crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export interface TokenCheckOptions {
  /** The tenant's JWKS, e.g. the emulator's jwksUri. */
  jwksUri: string;
  /** CA to trust for jwksUri (the emulator's caCertPem). */
  caCertPem?: string;
  /** Expected "iss", e.g. the emulator's accessTokenIssuer. */
  issuer: string;
  /** Expected "aud": the gateway's application ID URI, e.g. "api://flink-gateway". */
  audience: string;
  /** When set, a valid token whose "roles" lacks it gets 403 insufficient_scope. */
  requiredRole?: string;
  /** Tolerance on exp/nbf in seconds (default 0). */
  clockSkewSec?: number;
  /** Current time in epoch ms (default Date.now); tests move it to see a token expire. */
  now?: () => number;
}

export interface TokenCheck {
  /** http://127.0.0.1:<port>; any path is a check. */
  url: string;
  /** Every decision, newest last: what a test can assert on besides the status. */
  decisions: TokenDecision[];
  stop(): Promise<void>;
}

export interface TokenDecision {
  status: 200 | 401 | 403;
  /** Why (the error_description sent), or "ok". */
  reason: string;
  /** The URI nginx was asked about (X-Original-URI). */
  uri?: string;
}

type Jwk = crypto.JsonWebKey & { kid?: string };

function getJson(url: string, caCertPem: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const request = client.get(url, { ca: caCertPem, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (response.statusCode !== 200) return reject(new Error(`GET ${url} answered ${response.statusCode}: ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`GET ${url}: not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on("error", reject);
  });
}

export async function startTokenCheck(options: TokenCheckOptions): Promise<TokenCheck> {
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSec ?? 0;
  const keys = new Map<string, crypto.KeyObject>();
  const loadKeys = async () => {
    const body = (await getJson(options.jwksUri, options.caCertPem)) as { keys?: Jwk[] };
    for (const jwk of body.keys ?? []) if (jwk.kid && jwk.kty === "RSA") keys.set(jwk.kid, crypto.createPublicKey({ key: jwk, format: "jwk" }));
  };
  await loadKeys(); // fail at start, not on the first request, when the JWKS is unreachable
  let lastRefresh = Date.now();
  const keyFor = async (kid: string): Promise<crypto.KeyObject | undefined> => {
    // Keys roll over: an unknown kid refreshes the JWKS, at most every 10 s.
    if (!keys.has(kid) && Date.now() - lastRefresh > 10_000) {
      lastRefresh = Date.now();
      await loadKeys().catch(() => undefined);
    }
    return keys.get(kid);
  };

  const decide = async (authorization: string | undefined): Promise<{ status: 200 | 401 | 403; error?: string; reason: string }> => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
    if (!match) return { status: 401, reason: authorization ? "The Authorization header is not a bearer token." : "No bearer token." };
    const parts = match[1]!.split(".");
    const invalid = (reason: string) => ({ status: 401 as const, error: "invalid_token", reason });
    if (parts.length !== 3) return invalid("The token is not a JWT.");
    let header: { alg?: string; kid?: string };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      return invalid("The token is not a JWT.");
    }
    if (header.alg !== "RS256") return invalid(`The token's algorithm '${String(header.alg)}' is not RS256.`);
    const key = header.kid ? await keyFor(header.kid) : undefined;
    if (!key) return invalid("The token is signed by a key the tenant does not publish.");
    if (!crypto.verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, "base64url")))
      return invalid("The token's signature is invalid.");
    if (claims["iss"] !== options.issuer) return invalid(`The token's issuer '${String(claims["iss"])}' is not trusted.`);
    const audiences = Array.isArray(claims["aud"]) ? claims["aud"] : [claims["aud"]];
    if (!audiences.includes(options.audience)) return invalid(`The token's audience '${String(claims["aud"])}' is not '${options.audience}'.`);
    const nowSec = now() / 1000;
    if (typeof claims["exp"] !== "number") return invalid("The token has no expiry.");
    if (claims["exp"] + skew <= nowSec) return invalid("The token has expired.");
    if (typeof claims["nbf"] === "number" && claims["nbf"] - skew > nowSec) return invalid("The token is not valid yet.");
    if (options.requiredRole) {
      const roles = Array.isArray(claims["roles"]) ? claims["roles"] : [];
      if (!roles.includes(options.requiredRole))
        return { status: 403, error: "insufficient_scope", reason: `The token lacks the role '${options.requiredRole}'.` };
    }
    return { status: 200, reason: "ok" };
  };

  const decisions: TokenDecision[] = [];
  const server = http.createServer((request, response) => {
    decide(request.headers["authorization"]).then(
      ({ status, error, reason }) => {
        const uri = request.headers["x-original-uri"];
        decisions.push({ status, reason, ...(typeof uri === "string" ? { uri } : {}) });
        if (status !== 200) {
          const params = [`realm="flink-gateway"`, ...(error ? [`error="${error}"`, `error_description="${reason}"`] : [])];
          response.setHeader("WWW-Authenticate", `Bearer ${params.join(", ")}`);
        }
        response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "" : reason);
      },
      (err: unknown) => response.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    decisions,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
