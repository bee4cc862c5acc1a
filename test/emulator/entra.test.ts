import assert from "node:assert/strict";
import crypto from "node:crypto";
import { startEmulator, type Emulator } from "../../emulator/index";
import { signJwt } from "../../emulator/jwt";
import { listJobs, request } from "./helpers";

describe("emulator: Entra ID, Azure DevOps OIDC and managed identity endpoints", () => {
  let em: Emulator;
  let tokenUrl: string;
  before(async () => {
    em = await startEmulator({ oidcTokenLifetimeSec: 600 });
    tokenUrl = `/${em.tenantId}/oauth2/v2.0/token`;
  });
  after(() => em.close());
  afterEach(() => em.faults.clear());

  const secretForm = (extra: Record<string, string> = {}) => ({
    grant_type: "client_credentials",
    client_id: em.servicePrincipal.clientId,
    client_secret: em.servicePrincipal.clientSecret,
    scope: `${em.armUrl}/.default`,
    ...extra,
  });
  function assertAadsts(r: { status: number; json: any; text: string }, status: number, error: string, code: number): void {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json.error, error, r.text);
    assert.deepEqual(r.json.error_codes, [code]);
    assert.match(r.json.error_description, new RegExp(`^AADSTS${code}: .*\\r\\nTrace ID: .*\\r\\nCorrelation ID: .*\\r\\nTimestamp: `, "s"));
  }
  function certAssertion(o: { exp?: number; aud?: string; x5t?: string; key?: string; sub?: string } = {}): string {
    const pem = em.servicePrincipal.certificatePem;
    const cert = new crypto.X509Certificate(pem);
    const key = o.key ?? /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)![0];
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { aud: o.aud ?? `${em.url}${tokenUrl}`, iss: em.servicePrincipal.clientId, sub: o.sub ?? em.servicePrincipal.clientId, jti: crypto.randomUUID(), nbf: now, exp: o.exp ?? now + 600 },
      key,
      { alg: "RS256", x5t: o.x5t ?? crypto.createHash("sha1").update(cert.raw).digest("base64url") },
    );
  }
  const assertionForm = (assertion: string, clientId = em.servicePrincipal.clientId) => ({
    grant_type: "client_credentials",
    client_id: clientId,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
    scope: `${em.armUrl}/.default`,
  });
  const oidcUrl = (sc = em.workloadIdentity.serviceConnectionId) => `${em.workloadIdentity.oidcRequestUri}?api-version=7.1&serviceConnectionId=${sc}`;
  async function oidcToken(): Promise<string> {
    const r = await request(em, "POST", oidcUrl(), { token: em.workloadIdentity.systemAccessToken });
    assert.equal(r.status, 200, r.text);
    return r.json.oidcToken as string;
  }

  it("OpenID configuration and JWKS are served for the tenant, all endpoints on this server", async () => {
    const r = await request(em, "GET", `/${em.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(r.json.issuer, `${em.url}/${em.tenantId}/v2.0`);
    assert.equal(r.json.token_endpoint, `${em.url}${tokenUrl}`);
    for (const k of ["authorization_endpoint", "jwks_uri", "token_endpoint", "device_authorization_endpoint"]) assert.ok(String(r.json[k]).startsWith(em.url), k);
    const keys = await request(em, "GET", new URL(r.json.jwks_uri).pathname);
    assert.equal(keys.json.keys[0].kty, "RSA");
  });

  it("client secret → an RS256 access token with aud = scope without /.default, expires_in the configured lifetime", async () => {
    const r = await request(em, "POST", tokenUrl, { form: secretForm() });
    assert.equal(r.status, 200);
    assert.equal(r.json.token_type, "Bearer");
    assert.ok(r.json.expires_in > 3500 && r.json.expires_in <= 3600);
    const [h, c] = (r.json.access_token as string).split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString() || "{}"));
    assert.equal(h.alg, "RS256");
    assert.equal(c.aud, em.armUrl);
    assert.equal(c.tid, em.tenantId);
    // A trailing slash on the resource is accepted as ARM's other audience.
    const slash = await request(em, "POST", tokenUrl, { form: secretForm({ scope: `${em.armUrl}//.default` }) });
    assert.equal(slash.status, 200);
    assert.equal((await listJobs(em, slash.json.access_token)).status, 200);
  });

  it("wrong secret → 401 invalid_client AADSTS7000215", async () => {
    assertAadsts(await request(em, "POST", tokenUrl, { form: secretForm({ client_secret: "nope" }) }), 401, "invalid_client", 7000215);
  });
  it("unknown client → 400 unauthorized_client AADSTS700016", async () => {
    assertAadsts(await request(em, "POST", tokenUrl, { form: secretForm({ client_id: crypto.randomUUID() }) }), 400, "unauthorized_client", 700016);
  });
  it("unknown tenant → 400 AADSTS90002 (token endpoint and discovery)", async () => {
    const t = crypto.randomUUID();
    assertAadsts(await request(em, "POST", `/${t}/oauth2/v2.0/token`, { form: secretForm() }), 400, "invalid_request", 90002);
    assertAadsts(await request(em, "GET", `/${t}/v2.0/.well-known/openid-configuration`), 400, "invalid_tenant", 90002);
  });
  it("no credential → AADSTS7000216; scope without /.default → AADSTS1002012; unknown resource → AADSTS500011; wrong grant → AADSTS70003", async () => {
    const f = secretForm();
    delete (f as Record<string, string>)["client_secret"];
    assertAadsts(await request(em, "POST", tokenUrl, { form: f }), 401, "invalid_client", 7000216);
    assertAadsts(await request(em, "POST", tokenUrl, { form: secretForm({ scope: em.armUrl }) }), 400, "invalid_scope", 1002012);
    assertAadsts(await request(em, "POST", tokenUrl, { form: secretForm({ scope: "https://management.azure.com/.default" }) }), 400, "invalid_resource", 500011);
    assertAadsts(await request(em, "POST", tokenUrl, { form: secretForm({ grant_type: "password" }) }), 400, "unsupported_grant_type", 70003);
  });

  it("certificate assertion: accepted when signed by the registered certificate (RS256 + x5t)", async () => {
    const r = await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion()) });
    assert.equal(r.status, 200, r.text);
  });
  it("certificate assertion: unknown thumbprint → AADSTS700027; wrong key → AADSTS700027; expired → AADSTS700024; wrong aud; wrong sub", async () => {
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion({ x5t: "AAAA" })) }), 401, "invalid_client", 700027);
    const other = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const bad = await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion({ key: other })) });
    assertAadsts(bad, 401, "invalid_client", 700027);
    assert.match(bad.json.error_description, /failed signature validation/);
    const expired = await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion({ exp: Math.floor(Date.now() / 1000) - 3600 })) });
    assertAadsts(expired, 401, "invalid_client", 700024);
    assert.match(expired.json.error_description, /Client assertion is not within its valid time range/);
    assert.equal((await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion({ aud: "https://login.microsoftonline.com/x/oauth2/v2.0/token" })) })).status, 401);
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm(certAssertion({ sub: "someone" })) }), 401, "invalid_client", 700021);
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm("garbage") }), 400, "invalid_request", 50027);
  });

  it("Azure DevOps OIDC: requires the system access token (401), api-version, a known service connection; returns a short-lived oidcToken", async () => {
    assert.equal((await request(em, "POST", oidcUrl())).status, 401);
    assert.equal((await request(em, "POST", oidcUrl(), { token: "wrong" })).status, 401);
    assert.equal((await request(em, "POST", em.workloadIdentity.oidcRequestUri, { token: em.workloadIdentity.systemAccessToken })).status, 400);
    const unknown = await request(em, "POST", oidcUrl(crypto.randomUUID()), { token: em.workloadIdentity.systemAccessToken });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.message, /Service connection/);
    const t = await oidcToken();
    const c = JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString());
    assert.equal(c.aud, "api://AzureADTokenExchange");
    assert.equal(c.iss, em.workloadIdentity.issuer);
    assert.equal(c.sub, em.workloadIdentity.subject);
    assert.match(c.sub, /^sc:\/\/[^/]+\/[^/]+\/[^/]+$/);
    assert.equal(c.exp - c.iat, 600);
  });

  it("federated assertion: the OIDC token is exchanged for an ARM token", async () => {
    const r = await request(em, "POST", tokenUrl, { form: assertionForm(await oidcToken(), em.workloadIdentity.clientId) });
    assert.equal(r.status, 200, r.text);
    assert.equal((await listJobs(em, r.json.access_token)).status, 200);
  });

  it("federated assertion: an OIDC token older than its lifetime → AADSTS700024, so a long wait needs a fresh one", async () => {
    const t = await oidcToken();
    // 10 min lifetime + Entra's 5 min clock-skew allowance.
    em.clock.advance(16 * 60 * 1000, { tokens: true });
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm(t, em.workloadIdentity.clientId) }), 401, "invalid_client", 700024);
    assert.equal((await request(em, "POST", tokenUrl, { form: assertionForm(await oidcToken(), em.workloadIdentity.clientId) })).status, 200);
  });

  it("federated assertion: to the wrong app → AADSTS700211; forged subject → AADSTS700027 (signature)", async () => {
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm(await oidcToken(), em.servicePrincipal.clientId) }), 401, "invalid_client", 700211);
    const other = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const now = Math.floor(em.clock.now() / 1000);
    const forged = signJwt({ iss: em.workloadIdentity.issuer, sub: "sc://evil/x/y", aud: "api://AzureADTokenExchange", iat: now, nbf: now, exp: now + 600 }, other, { alg: "RS256" });
    assertAadsts(await request(em, "POST", tokenUrl, { form: assertionForm(forged, em.workloadIdentity.clientId) }), 401, "invalid_client", 700027);
  });

  it("access tokens expire with the configured lifetime (ARM then answers ExpiredAuthenticationToken)", async () => {
    const short = await startEmulator({ accessTokenLifetimeSec: 60 });
    try {
      const r = await request(short, "POST", `/${short.tenantId}/oauth2/v2.0/token`, {
        form: { grant_type: "client_credentials", client_id: short.servicePrincipal.clientId, client_secret: short.servicePrincipal.clientSecret, scope: `${short.armUrl}/.default` },
      });
      assert.equal(r.json.expires_in, 60);
      short.clock.advance(120_000);
      assert.equal((await listJobs(short, r.json.access_token)).status, 200, "a plain advance() does not age tokens");
      short.clock.advance(61_000, { tokens: true });
      const e = await listJobs(short, r.json.access_token);
      assert.equal(e.status, 401);
      assert.equal(e.json.error.code, "ExpiredAuthenticationToken");
    } finally {
      await short.close();
    }
  });

  it("timeScale shortens the lifetimes clients see (expires_in in real seconds)", async () => {
    const fast = await startEmulator({ timeScale: 10 });
    try {
      const r = await request(fast, "POST", `/${fast.tenantId}/oauth2/v2.0/token`, {
        form: { grant_type: "client_credentials", client_id: fast.servicePrincipal.clientId, client_secret: fast.servicePrincipal.clientSecret, scope: `${fast.armUrl}/.default` },
      });
      assert.equal(r.json.expires_in, 360);
    } finally {
      await fast.close();
    }
  });

  it("managed identity endpoint: needs X-IDENTITY-HEADER and api-version 2019-08-01; a foreign client_id is refused; returns expires_on", async () => {
    const base = `${em.managedIdentity.env["IDENTITY_ENDPOINT"]}?api-version=2019-08-01&resource=${encodeURIComponent(em.armUrl)}`;
    const hdr = { "x-identity-header": em.managedIdentity.env["IDENTITY_HEADER"]! };
    assert.equal((await request(em, "GET", base)).status, 401);
    assert.equal((await request(em, "GET", base.replace("2019-08-01", "2017-09-01"), { headers: hdr })).status, 400);
    const foreign = await request(em, "GET", `${base}&client_id=${crypto.randomUUID()}`, { headers: hdr });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.json.message, "Unable to load the proper Managed Identity.");
    const other = await request(em, "GET", base.replace(encodeURIComponent(em.armUrl), encodeURIComponent("https://vault.azure.net")), { headers: hdr });
    assert.equal(other.status, 400);
    const ok = await request(em, "GET", `${base}&client_id=${em.managedIdentity.clientId}`, { headers: hdr });
    assert.equal(ok.status, 200);
    assert.match(ok.json.expires_on, /^\d+$/);
    assert.equal(ok.json.client_id, em.managedIdentity.clientId);
    assert.equal((await listJobs(em, ok.json.access_token)).status, 200);
  });
});

describe("emulator: Entra ID tokens for an API registered besides ARM (a gateway's application ID URI)", () => {
  let em: Emulator;
  before(async () => {
    em = await startEmulator({ apis: [{ applicationIdUri: "api://flink-gateway", roles: ["Flink.Operate"] }] });
  });
  after(() => em.close());

  const form = (scope: string) => ({
    grant_type: "client_credentials",
    client_id: em.servicePrincipal.clientId,
    client_secret: em.servicePrincipal.clientSecret,
    scope,
  });

  it("client credentials for api://flink-gateway/.default → a token with that audience, the tenant's issuer and the granted roles, signed by a key of jwksUri", async () => {
    const r = await request(em, "POST", `/${em.tenantId}/oauth2/v2.0/token`, { form: form("api://flink-gateway/.default") });
    assert.equal(r.status, 200, r.text);
    const [headerPart, claimsPart, signature] = (r.json.access_token as string).split(".") as [string, string, string];
    const header = JSON.parse(Buffer.from(headerPart, "base64url").toString());
    const claims = JSON.parse(Buffer.from(claimsPart, "base64url").toString());
    assert.equal(claims.aud, "api://flink-gateway");
    assert.equal(claims.iss, em.accessTokenIssuer);
    assert.deepEqual(claims.roles, ["Flink.Operate"]);
    assert.equal(claims.appid, em.servicePrincipal.clientId);
    const keys = await request(em, "GET", em.jwksUri);
    const jwk = (keys.json.keys as { kid: string }[]).find((k) => k.kid === header.kid);
    assert.ok(jwk, `kid ${header.kid} in ${keys.text}`);
    const key = crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: "jwk" });
    assert.ok(crypto.verify("sha256", Buffer.from(`${headerPart}.${claimsPart}`), key, Buffer.from(signature, "base64url")));
  });

  it("ARM tokens carry no roles, and an API the tenant does not have is still refused (AADSTS500011)", async () => {
    const arm = await request(em, "POST", `/${em.tenantId}/oauth2/v2.0/token`, { form: form(`${em.armUrl}/.default`) });
    assert.equal(arm.status, 200, arm.text);
    assert.equal(JSON.parse(Buffer.from((arm.json.access_token as string).split(".")[1]!, "base64url").toString()).roles, undefined);
    const other = await request(em, "POST", `/${em.tenantId}/oauth2/v2.0/token`, { form: form("api://other-gateway/.default") });
    assert.equal(other.status, 400, other.text);
    assert.deepEqual(other.json.error_codes, [500011]);
  });
});
