import assert from "node:assert/strict";
import { AzurePipelinesCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from "@azure/identity";
import { startEmulator, type Emulator } from "../../emulator/index";
import { listJobs } from "./helpers";

/**
 * The real @azure/identity 4.13.1 against the emulator. NODE_EXTRA_CA_CERTS is read only at
 * process start, so in-process clients get the CA through the SDK's own TLS option:
 * `tlsOptions: { ca }` reaches core-rest-pipeline's https.Agent for both the MSAL token
 * requests and the OIDC request.
 */
describe("emulator: identity with the real @azure/identity", () => {
  let em: Emulator;
  let scope: string;
  const common = () => ({ authorityHost: em.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: em.caCertPem } });
  before(async () => {
    em = await startEmulator();
    scope = `${em.armUrl}/.default`;
  });
  after(() => em.close());
  afterEach(() => em.faults.clear());

  async function assertArmAccepts(token: string): Promise<void> {
    const r = await listJobs(em, token);
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.json.value));
  }

  it("ClientSecretCredential gets an ARM token that the jobs list accepts", async () => {
    const cred = new ClientSecretCredential(em.tenantId, em.servicePrincipal.clientId, em.servicePrincipal.clientSecret, common());
    const t = await cred.getToken(scope);
    assert.ok(t.expiresOnTimestamp > Date.now() + 3000 * 1000);
    await assertArmAccepts(t.token);
    const claims = JSON.parse(Buffer.from(t.token.split(".")[1]!, "base64url").toString());
    assert.equal(claims.aud, em.armUrl, "aud = scope without /.default");
    assert.equal(claims.appid, em.servicePrincipal.clientId);
    assert.equal(claims.oid, em.servicePrincipal.objectId);
  });

  it("a wrong secret gives AADSTS7000215 (401 invalid_client)", async () => {
    const cred = new ClientSecretCredential(em.tenantId, em.servicePrincipal.clientId, "not-the-secret", common());
    await assert.rejects(cred.getToken(scope), /AADSTS7000215: Invalid client secret provided/);
    const entry = em.log.entries({ route: "token" }).at(-1)!;
    assert.equal(entry.status, 401);
  });

  it("ClientCertificateCredential (PEM with key and certificate) gets an ARM token", async () => {
    const cred = new ClientCertificateCredential(em.tenantId, em.servicePrincipal.clientId, { certificate: em.servicePrincipal.certificatePem }, common());
    const t = await cred.getToken(scope);
    await assertArmAccepts(t.token);
    // And from the file path, as a service connection stored on disk would be used.
    const fromPath = new ClientCertificateCredential(em.tenantId, em.servicePrincipal.clientId, em.servicePrincipal.certificatePath, common());
    await assertArmAccepts((await fromPath.getToken(scope)).token);
  });

  it("AzurePipelinesCredential fetches an OIDC token and exchanges it", async () => {
    const saved = process.env["SYSTEM_OIDCREQUESTURI"];
    process.env["SYSTEM_OIDCREQUESTURI"] = em.workloadIdentity.oidcRequestUri;
    try {
      const wi = em.workloadIdentity;
      const cred = new AzurePipelinesCredential(em.tenantId, wi.clientId, wi.serviceConnectionId, wi.systemAccessToken, common());
      const t = await cred.getToken(scope);
      await assertArmAccepts(t.token);
      const oidc = em.log.entries({ route: "oidc" }).at(-1)!;
      assert.equal(oidc.status, 200);
      assert.equal(oidc.query["api-version"], "7.1");
      assert.equal(oidc.query["serviceConnectionId"], wi.serviceConnectionId);
    } finally {
      if (saved === undefined) delete process.env["SYSTEM_OIDCREQUESTURI"];
      else process.env["SYSTEM_OIDCREQUESTURI"] = saved;
    }
  });

  it("ManagedIdentityCredential (App Service source via IDENTITY_ENDPOINT/IDENTITY_HEADER) with a client id", async () => {
    const keys = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE"];
    const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    for (const k of keys) delete process.env[k];
    Object.assign(process.env, em.managedIdentity.env);
    try {
      const cred = new ManagedIdentityCredential({ clientId: em.managedIdentity.clientId, tlsOptions: { ca: em.caCertPem } });
      const t = await cred.getToken(scope);
      await assertArmAccepts(t.token);
      const msi = em.log.entries({ route: "msi" }).at(-1)!;
      assert.equal(msi.status, 200);
      assert.equal(msi.query["client_id"], em.managedIdentity.clientId);
      assert.equal(msi.query["api-version"], "2019-08-01");
    } finally {
      for (const k of keys) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
