import crypto from "node:crypto";
import type { VirtualClock } from "./clock";
import { isObject, type Reply, type RequestContext } from "./http";
import { decodeJwt, publicJwk, signJwt, verifyJwtSignature, type JwtClaims } from "./jwt";
import type { PersistentState } from "./state-dir";
import { thumbprints } from "./tls";

/**
 * Emulated Entra ID (v2.0 endpoints) for one tenant: OpenID discovery, JWKS and the token
 * endpoint for client credentials with a secret, a certificate assertion or a federated
 * (Azure DevOps OIDC) assertion. Errors carry Entra's AADSTS codes and wording.
 */

export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CLOCK_SKEW_SEC = 300;
/** Azure Storage's resource: the scope https://storage.azure.com/.default, or resource= with or without the slash. */
export const STORAGE_AUDIENCES: readonly string[] = ["https://storage.azure.com", "https://storage.azure.com/"];

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audience: string;
}

interface App {
  clientId: string;
  objectId: string;
  displayName: string;
  secret?: string;
  certPem?: string;
  federated?: FederatedCredential;
}

export interface IssuedTokenInfo {
  appId: string;
  objectId: string;
  /** 0 = managed identity / federated, 1 = secret, 2 = certificate (Entra's appidacr). */
  appidacr: "0" | "1" | "2";
}

/** An API of the tenant besides ARM (an app registration exposing an application ID URI). */
export interface RegisteredApi {
  /** e.g. "api://flink-gateway": the scope is "<applicationIdUri>/.default", the token's aud is this URI. */
  applicationIdUri: string;
  /** App roles granted (admin consent) to every app of the tenant: the token's "roles" claim. */
  roles?: string[];
}

export type AccessTokenCheck =
  | { ok: true; claims: JwtClaims }
  | { ok: false; code: "InvalidAuthenticationToken" | "ExpiredAuthenticationToken" | "InvalidAuthenticationTokenAudience" | "InvalidAuthenticationTokenTenant"; message: string };

export class EntraId {
  readonly kid: string;
  private readonly signingKey: string;
  private readonly publicKey: crypto.KeyObject;
  private readonly apps = new Map<string, App>();
  private readonly apis = new Map<string, RegisteredApi>();
  /** Public keys of trusted external token issuers (the Azure DevOps OIDC issuer). */
  private readonly externalIssuers = new Map<string, crypto.KeyObject>();

  constructor(
    private readonly url: string,
    readonly tenantId: string,
    state: PersistentState,
    private readonly clock: VirtualClock,
    private readonly accessTokenLifetimeSec: number,
  ) {
    this.signingKey = state.entraSigningKeyPem;
    this.publicKey = crypto.createPublicKey(this.signingKey);
    this.kid = crypto.createHash("sha1").update(this.publicKey.export({ type: "spki", format: "der" })).digest("base64url");
  }

  registerApp(app: App): void {
    this.apps.set(app.clientId.toLowerCase(), app);
  }

  registerApi(api: RegisteredApi): void {
    this.apis.set(api.applicationIdUri, api);
  }

  trustIssuer(issuer: string, publicKey: crypto.KeyObject): void {
    this.externalIssuers.set(issuer, publicKey);
  }

  get authorityHost(): string {
    return `${this.url}/`;
  }
  get issuerV2(): string {
    return `${this.url}/${this.tenantId}/v2.0`;
  }
  /** Access tokens for ARM are v1 tokens; their issuer ends with the tenant and a slash. */
  get accessTokenIssuer(): string {
    return `${this.url}/${this.tenantId}/`;
  }
  get jwksUri(): string {
    return `${this.url}/${this.tenantId}/discovery/v2.0/keys`;
  }
  get tokenEndpoint(): string {
    return `${this.url}/${this.tenantId}/oauth2/v2.0/token`;
  }
  /** Audiences accepted for ARM: its URL with and without the trailing slash. */
  armAudiences(): string[] {
    return [this.url, `${this.url}/`];
  }
  /** Azure Storage takes v1 tokens whose issuer is Entra's public STS (REAL: what Entra issues
   * for https://storage.azure.com; Azurite's --oauth basic accepts only sts.* issuers). */
  get storageTokenIssuer(): string {
    return `https://sts.windows.net/${this.tenantId}/`;
  }

  openIdConfiguration(ctx: RequestContext): Reply {
    const tenant = ctx.params["tenant"] ?? "";
    if (!this.isTenant(tenant)) return this.error(ctx, 400, "invalid_tenant", 90002, tenantNotFound(tenant));
    const base = `${this.url}/${this.tenantId}`;
    return {
      status: 200,
      json: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: this.jwksUri,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: this.issuerV2,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.url}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: "NA",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
        rbac_url: "https://pas.windows.net",
      },
    };
  }

  keys(ctx: RequestContext): Reply {
    const tenant = ctx.params["tenant"] ?? "";
    if (!this.isTenant(tenant)) return this.error(ctx, 400, "invalid_tenant", 90002, tenantNotFound(tenant));
    return { status: 200, json: { keys: [publicJwk(this.signingKey, this.kid)] } };
  }

  token(ctx: RequestContext): Reply {
    const tenant = ctx.params["tenant"] ?? "";
    if (!this.isTenant(tenant)) return this.error(ctx, 400, "invalid_request", 90002, tenantNotFound(tenant));
    if (ctx.method !== "POST") return this.error(ctx, 405, "invalid_request", 90056, "AADSTS90056: This endpoint only accepts POST requests. Received a GET request.");
    const form = isObject(ctx.body) ? (ctx.body as Record<string, string>) : {};
    const basic = basicAuth(ctx.headers["authorization"]);
    const grantType = form["grant_type"];
    if (!grantType) return this.error(ctx, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'grant_type'.");
    if (grantType !== "client_credentials")
      return this.error(ctx, 400, "unsupported_grant_type", 70003, `AADSTS70003: The app requested an unsupported grant type '${grantType}'.`);
    const clientId = form["client_id"] ?? basic?.user;
    if (!clientId) return this.error(ctx, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'client_id'.");
    const app = this.apps.get(clientId.toLowerCase());
    if (!app)
      return this.error(
        ctx,
        400,
        "unauthorized_client",
        700016,
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );

    let appidacr: IssuedTokenInfo["appidacr"];
    const secret = form["client_secret"] ?? basic?.password;
    const assertion = form["client_assertion"];
    if (secret !== undefined) {
      if (!app.secret || !timingSafeEqual(secret, app.secret))
        return this.error(
          ctx,
          401,
          "invalid_client",
          7000215,
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
      appidacr = "1";
    } else if (assertion !== undefined) {
      if (form["client_assertion_type"] !== JWT_BEARER)
        return this.error(ctx, 400, "invalid_request", 700023, `AADSTS700023: Client assertion type '${form["client_assertion_type"] ?? ""}' is not supported; use '${JWT_BEARER}'.`);
      const failure = this.checkAssertion(app, assertion);
      if (failure) return this.error(ctx, failure.status, failure.error, failure.code, failure.message);
      appidacr = decodeJwt(assertion)?.claims["iss"] === app.clientId ? "2" : "0";
    } else {
      return this.error(ctx, 401, "invalid_client", 7000216, "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
    }

    const scopeCheck = this.resourceFromScope(form["scope"]);
    if ("error" in scopeCheck) return this.error(ctx, 400, scopeCheck.error, scopeCheck.code, scopeCheck.message);
    const token = this.issueAccessToken(scopeCheck.resource, { appId: app.clientId, objectId: app.objectId, appidacr });
    return {
      status: 200,
      json: { token_type: "Bearer", expires_in: token.expiresInSec, ext_expires_in: token.expiresInSec, access_token: token.accessToken },
    };
  }

  /** Shared by the token endpoint and the managed identity endpoint. */
  resourceFromScope(scope: string | undefined): { resource: string } | { error: string; code: number; message: string } {
    if (!scope) return { error: "invalid_request", code: 900144, message: "AADSTS900144: The request body must contain the following parameter: 'scope'." };
    const scopes = scope.split(/\s+/).filter((s) => s && !["openid", "profile", "offline_access"].includes(s));
    const only = scopes.length === 1 ? scopes[0]! : undefined;
    if (!only || !only.endsWith("/.default"))
      return {
        error: "invalid_scope",
        code: 1002012,
        message: `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      };
    const resource = only.slice(0, -"/.default".length);
    const unknown = this.checkResource(resource);
    if (unknown) return { error: "invalid_resource", code: 500011, message: unknown };
    return { resource };
  }

  /** Undefined when `resource` is an API this tenant knows (the emulated ARM, Azure Storage). */
  checkResource(resource: string): string | undefined {
    if (this.armAudiences().includes(resource) || STORAGE_AUDIENCES.includes(resource) || this.apis.has(resource)) return undefined;
    return `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${this.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`;
  }

  issueAccessToken(resource: string, who: IssuedTokenInfo): { accessToken: string; expiresInSec: number; expiresOnRealSec: number } {
    const storage = STORAGE_AUDIENCES.includes(resource);
    // Storage tokens are judged by Azurite, which lives on the wall clock (no skew allowed): they
    // are dated in real time, or a timeScale > 1 would make them "not yet valid" there.
    const nowSec = Math.floor((storage ? Date.now() : this.clock.tokenNow()) / 1000);
    const lifetimeSec = storage ? Math.max(1, Math.ceil(this.clock.toRealMs(this.accessTokenLifetimeSec * 1000) / 1000)) : this.accessTokenLifetimeSec;
    const issuer = storage ? this.storageTokenIssuer : this.accessTokenIssuer;
    const claims: JwtClaims = {
      aud: resource,
      iss: issuer,
      iat: nowSec,
      nbf: nowSec,
      exp: nowSec + lifetimeSec,
      aio: crypto.randomBytes(24).toString("base64url"),
      appid: who.appId,
      appidacr: who.appidacr,
      idp: issuer,
      idtyp: "app",
      oid: who.objectId,
      rh: crypto.randomBytes(16).toString("base64url"),
      sub: who.objectId,
      tid: this.tenantId,
      uti: crypto.randomBytes(16).toString("base64url"),
      ver: "1.0",
    };
    const roles = this.apis.get(resource)?.roles;
    if (roles?.length) claims["roles"] = [...roles];
    const accessToken = signJwt(claims, this.signingKey, { typ: "JWT", alg: "RS256", kid: this.kid, x5t: this.kid });
    // Clients live in real time: tell them the lifetime in real seconds.
    const expiresInSec = Math.max(1, Math.ceil(this.clock.toRealMs(this.accessTokenLifetimeSec * 1000) / 1000));
    return { accessToken, expiresInSec, expiresOnRealSec: Math.floor(Date.now() / 1000) + expiresInSec };
  }

  /** ARM's view of a bearer token: signed here, for ARM, for this tenant, not expired (virtual clock). */
  verifyAccessToken(token: string): AccessTokenCheck {
    const jwt = decodeJwt(token);
    if (!jwt || !verifyJwtSignature(jwt, this.publicKey)) return { ok: false, code: "InvalidAuthenticationToken", message: "The access token is invalid." };
    const c = jwt.claims;
    // Audience first: a storage token (another issuer too) sent to ARM is refused for its audience.
    if (typeof c["aud"] !== "string" || !this.armAudiences().includes(c["aud"]))
      return {
        ok: false,
        code: "InvalidAuthenticationTokenAudience",
        message: `The access token has been obtained for wrong audience or resource '${String(c["aud"])}'. It should exactly match with one of the allowed audiences '${this.armAudiences().join("','")}'.`,
      };
    if (c["tid"] !== this.tenantId || c["iss"] !== this.accessTokenIssuer)
      return {
        ok: false,
        code: "InvalidAuthenticationTokenTenant",
        message: `The access token is from the wrong issuer '${String(c["iss"])}'. It must match the tenant '${this.accessTokenIssuer}' associated with this subscription. Please use the authority (URL) '${this.url}/${this.tenantId}' to get the token.`,
      };
    const now = this.clock.tokenNow();
    const exp = typeof c["exp"] === "number" ? c["exp"] * 1000 : 0;
    if (exp <= now)
      return {
        ok: false,
        code: "ExpiredAuthenticationToken",
        message: `The access token expiry UTC time '${armTime(exp)}' is earlier than current UTC time '${armTime(now)}'.`,
      };
    return { ok: true, claims: c };
  }

  private checkAssertion(app: App, assertion: string): { status: number; error: string; code: number; message: string } | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) return { status: 400, error: "invalid_request", code: 50027, message: "AADSTS50027: JWT token is invalid or malformed." };
    const c = jwt.claims;
    const invalidClient = (code: number, message: string) => ({ status: 401, error: "invalid_client", code, message });
    const isCertificate = c["iss"] === app.clientId;
    // Client certificates are checked against the client's (real) clock; federated tokens were
    // issued by this emulator and age with its virtual clock.
    const nowSec = (isCertificate ? Date.now() : this.clock.tokenNow()) / 1000;
    const timeRange = (): string | undefined => {
      const exp = typeof c["exp"] === "number" ? c["exp"] : 0;
      const nbf = typeof c["nbf"] === "number" ? c["nbf"] : 0;
      if (exp + CLOCK_SKEW_SEC > nowSec && nbf - CLOCK_SKEW_SEC <= nowSec) return undefined;
      return `AADSTS700024: Client assertion is not within its valid time range. Current time: ${entraTime(nowSec * 1000)}, assertion valid from ${entraTime(nbf * 1000)}, expiry time of assertion ${entraTime(exp * 1000)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`;
    };
    if (isCertificate) {
      if (!app.certPem) return invalidClient(700027, `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.] App Id '${app.clientId}'.`);
      const tp = thumbprints(app.certPem);
      const presented = (jwt.header["x5t#S256"] as string | undefined) ?? (jwt.header["x5t"] as string | undefined);
      if (presented !== tp.x5tS256 && presented !== tp.x5t)
        return invalidClient(
          700027,
          `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprintHex(presented)}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`,
        );
      if (!verifyJwtSignature(jwt, crypto.createPublicKey(app.certPem))) return invalidClient(700027, "AADSTS700027: Client assertion failed signature validation.");
      if (c["sub"] !== app.clientId)
        return invalidClient(700021, "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .");
      const audOk = typeof c["aud"] === "string" && [this.tokenEndpoint, this.issuerV2, `${this.url}/${this.tenantId}/oauth2/token`].includes(c["aud"]);
      if (!audOk)
        return invalidClient(700212, `AADSTS50013: Assertion audience claim does not match the required value. Expected '${this.tokenEndpoint}', got '${String(c["aud"])}'.`);
      const range = timeRange();
      return range ? invalidClient(700024, range) : undefined;
    }
    // Federated credential (workload identity federation).
    const iss = typeof c["iss"] === "string" ? c["iss"] : "";
    const fed = app.federated;
    const fedHint = "Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
    if (!fed || fed.issuer !== iss) return invalidClient(700211, `AADSTS700211: No matching federated identity record found for presented assertion issuer '${iss}'. Please note that the matching is done using a case-sensitive comparison. ${fedHint}`);
    const key = this.externalIssuers.get(iss);
    if (!key || !verifyJwtSignature(jwt, key)) return invalidClient(700027, "AADSTS700027: Client assertion failed signature validation.");
    const aud = Array.isArray(c["aud"]) ? c["aud"] : [c["aud"]];
    if (!aud.includes(fed.audience)) return invalidClient(700212, `AADSTS700212: No matching federated identity record found for presented assertion audience '${aud.join(",")}'. ${fedHint}`);
    if (c["sub"] !== fed.subject)
      return invalidClient(700213, `AADSTS700213: No matching federated identity record found for presented assertion subject '${String(c["sub"])}'. Please note that the matching is done using a case-sensitive comparison. ${fedHint}`);
    const range = timeRange();
    return range ? invalidClient(700024, range) : undefined;
  }

  /** Entra's error body: description with trace/correlation ids and timestamp. */
  error(ctx: RequestContext, status: number, error: string, code: number, message: string): Reply {
    const traceId = crypto.randomUUID();
    const correlationId = ctx.headers["client-request-id"] ?? crypto.randomUUID();
    const timestamp = entraTimestamp(Date.now());
    return {
      status,
      json: {
        error,
        error_description: `${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.url}/error?code=${code}`,
      },
    };
  }

  isTenant(t: string): boolean {
    return t.toLowerCase() === this.tenantId.toLowerCase();
  }
}

function tenantNotFound(tenant: string): string {
  return `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}

function basicAuth(h: string | undefined): { user: string; password: string } | undefined {
  const m = h ? /^Basic\s+(.+)$/i.exec(h) : null;
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return { user: decodeURIComponent(decoded.slice(0, i)), password: decodeURIComponent(decoded.slice(i + 1)) };
}

function timingSafeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

function thumbprintHex(b64url: string | undefined): string {
  return b64url ? Buffer.from(b64url, "base64url").toString("hex").toUpperCase() : "";
}

function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function entraTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

/** ARM's wording uses US-style dates: 11/23/2025 9:38:00 PM. */
export function armTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}
