/** The ApacheFlink connection read and checked before any call; the identity stack loaded only for Entra ID. */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ConnectionError, InputError } from "../../src/errors";
import { entraScope, restEndpoint } from "../../src/backends/flink-rest/connection";
import { validateFlinkRestInputs } from "../../src/backends/flink-rest/inputs";
import type { CommonInputs } from "../../src/jobs/backend";
import { repoRoot } from "../harness/agent";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2VydA==\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----";

describe("Flink REST: the ApacheFlink connection's schemes", () => {
  const conn = (scheme: string, parameters: Record<string, string> = {}, url = "https://flink.contoso.com/flink/orders/", data: Record<string, string> = {}) => ({ id: "flink-prod", url, scheme, parameters, data });

  it("Token: the bearer token; none or one with white space refused, naming the connection", () => {
    assert.equal(restEndpoint(conn("Token", { apitoken: "abc.def.ghi" }), "flinkConnection").bearerToken, "abc.def.ghi");
    assert.throws(() => restEndpoint(conn("Token", {}), "flinkConnection"), /'flink-prod' uses Token authentication but has no token/);
    assert.throws(() => restEndpoint(conn("Token", { apitoken: "Bearer abc" }), "flinkConnection"), /without 'Bearer '/);
  });

  it("Certificate: certificate and key split from one PEM; a missing or encrypted key and http:// refused", () => {
    const endpoint = restEndpoint(conn("Certificate", { certificate: `${CERT}\n${KEY}` }), "flinkConnection");
    assert.equal(endpoint.clientCertificate?.cert.trim(), CERT);
    assert.equal(endpoint.clientCertificate?.key.trim(), KEY);
    assert.equal(endpoint.access.scheme, "Client certificate");
    assert.throws(() => restEndpoint(conn("Certificate", { certificate: CERT }), "flinkConnection"), /without its private key/);
    assert.throws(() => restEndpoint(conn("Certificate", { certificate: `${CERT}\n${KEY.replace(/PRIVATE KEY/g, "ENCRYPTED PRIVATE KEY")}` }), "flinkConnection"), /encrypted private key/);
    assert.throws(() => restEndpoint(conn("Certificate", { certificate: `${CERT}\n${KEY}` }, "http://127.0.0.1:8081"), "flinkConnection"), /needs an https:\/\/ URL/);
  });

  it("a CA certificate in the connection's data; data that holds no certificate is refused", () => {
    assert.deepEqual(restEndpoint(conn("None", {}, undefined, { caCertificate: `junk\n${CERT}\n` }), "flinkConnection").caCertificates, [`${CERT}\n`]);
    assert.throws(() => restEndpoint(conn("None", {}, undefined, { caCertificate: "not a pem" }), "flinkConnection"), /CA certificate that holds no PEM certificate/);
  });

  it("credentials over http:// only to loopback, or where the connection allows it; None goes anywhere", () => {
    for (const url of ["http://127.0.0.1:8081", "http://localhost:8081", "http://[::1]:8081"]) {
      assert.ok(restEndpoint(conn("UsernamePassword", { username: "ci", password: "pw" }, url), "flinkConnection").basicAuth, url);
    }
    assert.throws(() => restEndpoint(conn("UsernamePassword", { username: "ci", password: "pw" }, "http://10.0.0.5:8081"), "flinkConnection"), ConnectionError);
    assert.throws(() => restEndpoint(conn("Token", { apitoken: "t" }, "http://flink.contoso.com"), "flinkConnection"), /over plain http:\/\/ to flink\.contoso\.com/);
    assert.ok(restEndpoint(conn("Token", { apitoken: "t" }, "http://flink.contoso.com", { allowInsecureHttp: "true" }), "flinkConnection").bearerToken);
    assert.equal(restEndpoint(conn("None", {}, "http://10.0.0.5:8081"), "flinkConnection").access.scheme, "None");
    const entra = { connectionInput: "entraIdConnection", connectionId: "arm", scopeInput: "entraIdScope", scope: "api://g/.default" };
    assert.throws(() => restEndpoint(conn("None", {}, "http://10.0.0.5:8081"), "flinkConnection", entra), /would send its Entra ID token over plain http/);
  });

  it("Entra ID beside Basic or Token is refused (one Authorization header); beside a client certificate it is kept", () => {
    const entra = { connectionInput: "entraIdConnection", connectionId: "arm", scopeInput: "entraIdScope", scope: "api://g/.default" };
    assert.throws(() => restEndpoint(conn("UsernamePassword", { username: "ci", password: "pw" }), "flinkConnection", entra), /one Authorization header/);
    const both = restEndpoint(conn("Certificate", { certificate: `${CERT}\n${KEY}` }), "flinkConnection", entra);
    assert.equal(both.access.scheme, "Client certificate");
    assert.equal(both.access.entra?.scope, "api://g/.default");
  });

  it("entraIdScope: an application ID URI or client id gains /.default; a scope is kept; anything else is an input error", () => {
    assert.equal(entraScope("entraIdScope", "api://flink-gateway"), "api://flink-gateway/.default");
    assert.equal(entraScope("entraIdScope", "api://flink-gateway/"), "api://flink-gateway/.default");
    assert.equal(entraScope("entraIdScope", "https://contoso.onmicrosoft.com/flink/.default"), "https://contoso.onmicrosoft.com/flink/.default");
    assert.equal(entraScope("entraIdScope", "6f1c2a9e-0b7d-4c3e-9f5a-1d2e3f4a5b6c"), "6f1c2a9e-0b7d-4c3e-9f5a-1d2e3f4a5b6c/.default");
    assert.throws(() => entraScope("entraIdScope", "flink gateway"), InputError);
    assert.throws(() => entraScope("entraIdScope", "flink-gateway"), /Input 'entraIdScope'/);
  });

  it("entraIdConnection needs entraIdScope, and entraIdScope alone is an error, both before any call", () => {
    const common: CommonInputs = { target: "flinkRest", jobName: "orders", action: "CANCEL", waitForCompletion: true, timeoutMs: 60_000, maxPollIntervalMs: 10_000 };
    const raw = (values: Record<string, string>) => (name: string) => values[name];
    assert.throws(() => validateFlinkRestInputs(common, raw({ flinkConnection: "f", entraIdConnection: "arm" })), /Input 'entraIdScope': a value is required/);
    assert.throws(() => validateFlinkRestInputs(common, raw({ flinkConnection: "f", entraIdScope: "api://g" })), /Input 'entraIdScope': is set, but 'entraIdConnection' is empty/);
    assert.deepEqual(validateFlinkRestInputs(common, raw({ flinkConnection: "f", entraIdConnection: "arm", entraIdScope: "api://g" })).entra, {
      connectionInput: "entraIdConnection",
      connectionId: "arm",
      scopeInput: "entraIdScope",
      scope: "api://g/.default",
    });
  });
});

describe("Flink REST: @azure/identity is loaded only for an Entra ID token", function () {
  this.timeout(60_000);
  /** Connects the Flink REST backend in a fresh process and says whether the identity stack was evaluated. */
  function identityLoaded(inputs: Record<string, string>, { read = false } = {}): boolean {
    const script = `
      const { loadBackend } = require("./src/backends");
      loadBackend("flinkRest").then((backend) => {
      const raw = (n) => (${JSON.stringify(inputs)})[n];
      const common = { target: "flinkRest", jobName: "orders", action: "CANCEL", waitForCompletion: true, timeoutMs: 60000, maxPollIntervalMs: 10000 };
      const host = {
        logger: { info() {}, warning() {}, debug() {} }, userAgent: "t", input: raw,
        endpoint: () => ({ id: "f", url: "http://127.0.0.1:1", scheme: "None", parameters: {}, data: {} }),
        serviceConnection: () => ({ id: "arm", url: "https://management.azure.com/", scheme: "ServicePrincipal", auth: { serviceprincipalid: "c", serviceprincipalkey: "s", tenantid: "t" }, data: {} }),
        workingDirectory: () => ".", network: () => ({}), setSecret() {}, setOutput() {}, uploadSummary() {},
      };
      const connected = backend.connect(host, common, backend.validate(common, raw));
      // A read makes the first request, which asks for the token first (the cluster at port 1 is never reached).
      const read = ${read} ? connected.readStatus({}, { timeoutMs: 60000, waitForCompletion: true, maxPollIntervalMs: 1000, logger: host.logger }).catch(() => undefined) : Promise.resolve();
      return read.then(() => {
        connected.close();
        process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes("@azure/identity") || k.includes("@azure/msal"))));
      });
      });
    `;
    const run = spawnSync(process.execPath, ["-r", "tsx/cjs", "-e", script], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim() === "true";
  }

  it("not with scheme None (the Flink path's cold start does not pay for it)", () => {
    assert.equal(identityLoaded({ flinkConnection: "f" }), false);
  });

  it("with entraIdConnection, once the first request asks for a token, not before", () => {
    const entra = { flinkConnection: "f", entraIdConnection: "arm", entraIdScope: "api://g" };
    assert.equal(identityLoaded(entra), false);
    assert.equal(identityLoaded(entra, { read: true }), true);
  });
});
