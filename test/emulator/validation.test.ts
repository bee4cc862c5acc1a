import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startEmulator, type Emulator } from "../../emulator/index";
import { signJwt } from "../../emulator/jwt";
import { armToken, clusterPath, newJobBody, actionBody, request, runJob, uniqueName, V2023_06, V2024 } from "./helpers";

describe("emulator: strict validation with ARM-shaped errors", () => {
  let em: Emulator;
  let token: string;
  let entraKey: string;
  before(async () => {
    em = await startEmulator();
    token = await armToken(em);
    entraKey = JSON.parse(fs.readFileSync(path.join(path.dirname(em.caCertPath), "state.json"), "utf8")).entraSigningKeyPem;
  });
  after(() => em.close());

  const jobsUrl = (v = V2024) => `${clusterPath(em)}/jobs?api-version=${v}`;
  function assertArmError(r: { status: number; json: any; text: string }, status: number, code: string, target?: string): void {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json?.error?.code, code, r.text);
    assert.equal(typeof r.json.error.message, "string");
    if (target !== undefined) assert.equal(r.json.error.target, target, r.text);
  }
  function forged(claims: Record<string, unknown>, key = entraKey): string {
    const now = Math.floor(em.clock.now() / 1000);
    return signJwt({ aud: em.armUrl, iss: `${em.url}/${em.tenantId}/`, tid: em.tenantId, iat: now, nbf: now, exp: now + 3600, oid: "x", ...claims }, key, { alg: "RS256" });
  }

  describe("bearer token", () => {
    it("missing Authorization header → 401 AuthenticationFailed with WWW-Authenticate", async () => {
      const r = await request(em, "GET", jobsUrl());
      assertArmError(r, 401, "AuthenticationFailed");
      assert.match(r.headers["www-authenticate"] as string, /^Bearer authorization_uri=/);
    });
    it("a token not signed by the emulated Entra → 401 InvalidAuthenticationToken", async () => {
      assertArmError(await request(em, "GET", jobsUrl(), { token: "not.a.jwt" }), 401, "InvalidAuthenticationToken");
      const other = (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      assertArmError(await request(em, "GET", jobsUrl(), { token: forged({}, other) }), 401, "InvalidAuthenticationToken");
    });
    it("a token for another audience → 401 InvalidAuthenticationTokenAudience", async () => {
      assertArmError(await request(em, "GET", jobsUrl(), { token: forged({ aud: "https://management.azure.com/" }) }), 401, "InvalidAuthenticationTokenAudience");
    });
    it("a token from another tenant → 401 InvalidAuthenticationTokenTenant", async () => {
      assertArmError(await request(em, "GET", jobsUrl(), { token: forged({ tid: "00000000-0000-0000-0000-000000000000" }) }), 401, "InvalidAuthenticationTokenTenant");
    });
    it("an expired token → 401 ExpiredAuthenticationToken (virtual clock)", async () => {
      const t = forged({ exp: Math.floor(em.clock.now() / 1000) - 10 });
      assertArmError(await request(em, "GET", jobsUrl(), { token: t }), 401, "ExpiredAuthenticationToken");
    });
    it("the operation status URL needs a valid token too", async () => {
      const post = await runJob(em, token, newJobBody(em, uniqueName()));
      assertArmError(await request(em, "GET", post.headers["location"] as string), 401, "AuthenticationFailed");
    });
  });

  describe("resource path and api-version", () => {
    it("missing api-version → 400 MissingApiVersionParameter", async () => {
      assertArmError(await request(em, "GET", `${clusterPath(em)}/jobs`, { token }), 400, "MissingApiVersionParameter");
    });
    it("unsupported api-version → 400 InvalidApiVersionParameter naming the supported ones", async () => {
      const r = await request(em, "GET", jobsUrl("2021-01-01"), { token });
      assertArmError(r, 400, "InvalidApiVersionParameter");
      assert.match(r.json.error.message, /2024-05-01-preview,2023-11-01-preview,2023-06-01-preview/);
    });
    it("unknown subscription → 404 SubscriptionNotFound; resource group → 404 ResourceGroupNotFound", async () => {
      assertArmError(await request(em, "GET", jobsUrl().replace(em.subscriptionId, "11111111-1111-1111-1111-111111111111"), { token }), 404, "SubscriptionNotFound");
      assertArmError(await request(em, "GET", jobsUrl().replace(`/resourceGroups/${em.resourceGroup}/`, "/resourceGroups/nope/"), { token }), 404, "ResourceGroupNotFound");
    });
    it("unknown cluster pool or cluster → 404 ResourceNotFound", async () => {
      assertArmError(await request(em, "GET", jobsUrl().replace(`/clusterpools/${em.clusterPool}/`, "/clusterpools/nopool/"), { token }), 404, "ResourceNotFound");
      const r = await request(em, "POST", `${clusterPath(em).replace(`/clusters/${em.cluster}`, "/clusters/nocluster")}/runJob?api-version=${V2024}`, { token, body: newJobBody(em, uniqueName()) });
      assertArmError(r, 404, "ResourceNotFound");
      assert.match(r.json.error.message, /Microsoft\.HDInsight\/clusterpools\/flinkpool\/clusters\/nocluster/);
    });
    it("GET on runJob → 405", async () => {
      assert.equal((await request(em, "GET", `${clusterPath(em)}/runJob?api-version=${V2024}`, { token })).status, 405);
    });
  });

  describe("runJob body", () => {
    const post = (body: unknown, v = V2024) => runJob(em, token, body, v);
    it("invalid JSON → 400 InvalidRequestContent", async () => {
      assertArmError(await request(em, "POST", `${clusterPath(em)}/runJob?api-version=${V2024}`, { token, rawBody: "{nope", headers: { "content-type": "application/json" } }), 400, "InvalidRequestContent");
    });
    it("non-JSON content type → 415 UnsupportedMediaType", async () => {
      assertArmError(await request(em, "POST", `${clusterPath(em)}/runJob?api-version=${V2024}`, { token, rawBody: "x=1", headers: { "content-type": "text/plain" } }), 415, "UnsupportedMediaType");
    });
    it("body without properties → 400 naming properties", async () => {
      assertArmError(await post({ jobType: "FlinkJob", jobName: "a", action: "NEW" }), 400, "InvalidRequestContent", "jobType");
      assertArmError(await post({}), 400, "InvalidRequestContent", "properties");
    });
    it("jobType missing or not FlinkJob → 400 naming properties.jobType", async () => {
      const b = newJobBody(em, uniqueName());
      delete b.properties["jobType"];
      assertArmError(await post(b), 400, "InvalidRequestContent", "properties.jobType");
      assertArmError(await post(newJobBody(em, uniqueName(), { jobType: "SparkJob" })), 400, "InvalidRequestContent", "properties.jobType");
    });
    it("action missing or not in the enum → 400 naming properties.action", async () => {
      const b = newJobBody(em, uniqueName());
      delete b.properties["action"];
      assertArmError(await post(b), 400, "InvalidRequestContent", "properties.action");
      assertArmError(await post(actionBody("x", "RESTART")), 400, "InvalidRequestContent", "properties.action");
      assertArmError(await post(actionBody("x", "stop")), 400, "InvalidRequestContent", "properties.action");
    });
    it("SPEC: LAST_STATE_UPDATE and RE_LAUNCH are not actions in 2023-06-01-preview", async () => {
      assertArmError(await post(actionBody("x", "LAST_STATE_UPDATE"), V2023_06), 400, "InvalidRequestContent", "properties.action");
      assertArmError(await post(actionBody("x", "RE_LAUNCH"), V2023_06), 400, "InvalidRequestContent", "properties.action");
    });
    it("SPEC: runId is refused in 2023-06-01-preview", async () => {
      assertArmError(await post(newJobBody(em, uniqueName(), { runId: "job-abc-1234-1234-123456789012" }), V2023_06), 400, "InvalidRequestContent", "properties.runId");
    });
    for (const field of ["jobId", "status", "jobOutput", "actionResult", "lastSavePoint"]) {
      it(`read-only ${field} → 400 InvalidRequestContent naming properties.${field}`, async () => {
        assertArmError(await post(newJobBody(em, uniqueName(), { [field]: "x" })), 400, "InvalidRequestContent", `properties.${field}`);
      });
    }
    for (const field of ["jobName", "jobJarDirectory", "jarName", "entryClass"]) {
      it(`DOC: NEW without ${field} → 400 naming properties.${field}`, async () => {
        const b = newJobBody(em, uniqueName());
        delete b.properties[field];
        assertArmError(await post(b), 400, "InvalidRequestContent", `properties.${field}`);
      });
    }
    it("REAL over DOC: NEW without flinkConfiguration.parallelism is accepted (the docs call it required; the CLI recording lists such a NEW)", async () => {
      assert.equal((await post(newJobBody(em, uniqueName(), { flinkConfiguration: {} }))).status, 202);
      const b = newJobBody(em, uniqueName());
      delete b.properties["flinkConfiguration"];
      assert.equal((await post(b)).status, 202);
    });
    it("SPEC: every flinkConfiguration value must be a string (parallelism 2 as a number → 400)", async () => {
      assertArmError(await post(newJobBody(em, uniqueName(), { flinkConfiguration: { parallelism: 2 } })), 400, "InvalidRequestContent", "properties.flinkConfiguration.parallelism");
      assertArmError(await post(newJobBody(em, uniqueName(), { flinkConfiguration: { parallelism: "1", "taskmanager.numberOfTaskSlots": true } })), 400, "InvalidRequestContent", "properties.flinkConfiguration.taskmanager.numberOfTaskSlots");
      assertArmError(await post(newJobBody(em, uniqueName(), { flinkConfiguration: { parallelism: "two" } })), 400, "InvalidRequestContent", "properties.flinkConfiguration.parallelism");
    });
    it("string fields must be strings", async () => {
      assertArmError(await post(newJobBody(em, uniqueName(), { args: ["a", "b"] })), 400, "InvalidRequestContent", "properties.args");
    });
    it("STOP without jobName (2023-06) or without jobName and runId (≥2023-11) → 400", async () => {
      assertArmError(await post({ properties: { jobType: "FlinkJob", action: "STOP" } }, V2023_06), 400, "InvalidRequestContent", "properties.jobName");
      assertArmError(await post({ properties: { jobType: "FlinkJob", action: "STOP" } }), 400, "InvalidRequestContent", "properties.jobName");
    });
    it("GUESS rejectUnknownProperties: a misspelt property (savepointName) → 400 naming it", async () => {
      assertArmError(await post(actionBody("x", "START", { savepointName: "sp" })), 400, "InvalidRequestContent", "properties.savepointName");
    });
    it("GUESS jobNameLowercase: an upper-case jobName → 400 (docs: job names are lower case)", async () => {
      assertArmError(await post(newJobBody(em, "MyJob")), 400, "InvalidRequestContent", "properties.jobName");
    });
    it("GUESS switches: rejectUnknownProperties=false and jobNameLowercase=false accept them", async () => {
      const lenient = await startEmulator({ guesses: { rejectUnknownProperties: false, jobNameLowercase: false } });
      try {
        const t = await armToken(lenient);
        assert.equal((await runJob(lenient, t, newJobBody(lenient, "MyJob", { extra: 1 }))).status, 202);
      } finally {
        await lenient.close();
      }
    });
  });
});
