import assert from "node:assert/strict";
import https from "node:https";
import { AzurePipelinesCredential, ClientCertificateCredential, ClientSecretCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startAzurite, type Azurite } from "../../testbed/azurite/index";
import { listJobs } from "./helpers";

const STORAGE_SCOPE = "https://storage.azure.com/.default";

/** Create Container against Azurite with the token: 201 or 409 means the token was accepted. */
function createContainer(az: Azurite, ca: string, token: string, name: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${az.blobEndpoint}/${name}?restype=container`,
      { method: "PUT", ca, agent: false, headers: { authorization: `Bearer ${token}`, "x-ms-version": "2025-11-05", "content-length": "0" } },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/**
 * Azure Storage takes v1 tokens (issuer https://sts.windows.net/<tenant>/, audience
 * https://storage.azure.com): the emulated Entra mints them for every credential kind, and
 * Azurite (--oauth basic, which checks exactly issuer, audience and lifetime) accepts them.
 */
describe("emulator: storage-audience tokens", () => {
  let em: Emulator;
  let az: Azurite;
  const common = () => ({ authorityHost: em.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: em.caCertPem } });
  before(async () => {
    em = await startEmulator();
    az = await startAzurite({ certPem: em.serverTls.certPem, keyPem: em.serverTls.keyPem });
  });
  after(async () => {
    await az?.stop();
    await em?.close();
  });

  async function assertStorageToken(cred: TokenCredential, objectId: string, container: string, audience = "https://storage.azure.com"): Promise<void> {
    const before = Math.floor(Date.now() / 1000);
    const t = await cred.getToken(STORAGE_SCOPE);
    assert.ok(t, "a token");
    const c = claimsOf(t.token);
    assert.equal(c["iss"], `https://sts.windows.net/${em.tenantId}/`);
    assert.equal(c["aud"], audience);
    assert.equal(c["oid"], objectId);
    assert.equal(c["tid"], em.tenantId);
    assert.equal(c["ver"], "1.0");
    for (const k of ["iat", "nbf", "exp"]) assert.equal(typeof c[k], "number", k);
    assert.ok((c["exp"] as number) > before + 600 && (c["nbf"] as number) <= before + 5);
    const created = await createContainer(az, em.caCertPem, t.token, container);
    assert.equal(created.status, 201, `Azurite refused the token: ${created.body}`);
    // The same token is no good for Resource Manager.
    const arm = await listJobs(em, t.token);
    assert.equal(arm.status, 401);
    assert.equal(arm.json.error.code, "InvalidAuthenticationTokenAudience");
  }

  it("client secret", async () => {
    const cred = new ClientSecretCredential(em.tenantId, em.servicePrincipal.clientId, em.servicePrincipal.clientSecret, common());
    await assertStorageToken(cred, em.servicePrincipal.objectId, "secret");
  });

  it("client certificate", async () => {
    const cred = new ClientCertificateCredential(em.tenantId, em.servicePrincipal.clientId, { certificate: em.servicePrincipal.certificatePem }, common());
    await assertStorageToken(cred, em.servicePrincipal.objectId, "certificate");
  });

  it("workload identity federation", async () => {
    const saved = process.env["SYSTEM_OIDCREQUESTURI"];
    process.env["SYSTEM_OIDCREQUESTURI"] = em.workloadIdentity.oidcRequestUri;
    try {
      const wi = em.workloadIdentity;
      const cred = new AzurePipelinesCredential(em.tenantId, wi.clientId, wi.serviceConnectionId, wi.systemAccessToken, common());
      await assertStorageToken(cred, wi.objectId, "federated");
    } finally {
      if (saved === undefined) delete process.env["SYSTEM_OIDCREQUESTURI"];
      else process.env["SYSTEM_OIDCREQUESTURI"] = saved;
    }
  });

  // msal-node keeps the managed identity source (and its endpoint) process-wide, so a second
  // emulator in the same mocha process cannot be reached through ManagedIdentityCredential
  // (identity.test.ts already covers that credential): this asks the endpoint exactly as
  // msal-node's App Service source does.
  for (const resource of ["https://storage.azure.com", "https://storage.azure.com/"]) {
    it(`managed identity (resource=${resource})`, async () => {
      const url = new URL(em.managedIdentity.env["IDENTITY_ENDPOINT"]!);
      url.search = new URLSearchParams({ "api-version": "2019-08-01", resource, client_id: em.managedIdentity.clientId }).toString();
      const reply = await new Promise<{ status: number; json: { access_token: string; resource: string } }>((resolve, reject) => {
        https
          .get(url, { ca: em.caCertPem, agent: false, headers: { "x-identity-header": em.managedIdentity.env["IDENTITY_HEADER"]! } }, (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) }));
          })
          .on("error", reject);
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.json.resource, resource);
      const cred: TokenCredential = { getToken: async () => ({ token: reply.json.access_token, expiresOnTimestamp: Date.now() + 3600_000 }) };
      await assertStorageToken(cred, em.managedIdentity.objectId, `managed${resource.endsWith("/") ? "-slash" : ""}`, resource);
    });
  }

  it("an unknown resource is still refused (AADSTS500011)", async () => {
    const cred = new ClientSecretCredential(em.tenantId, em.servicePrincipal.clientId, em.servicePrincipal.clientSecret, common());
    await assert.rejects(cred.getToken("https://vault.azure.net/.default"), /AADSTS500011/);
  });
});
