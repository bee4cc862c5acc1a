/**
 * Reaching a protected Flink: the bundled tasks (target flinkRest) through the agent harness
 * against nginx gateways in front of one real Flink cluster (basic, token, Entra ID through
 * auth_request, sign-in pages, https with a test CA, a redirect to another host), then against
 * Flink's own REST mutual TLS. Each scheme runs a job's lifecycle; each refusal has its message;
 * no credential reaches the log, debug included.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { type Emulator, startEmulator } from "../../emulator/index";
import type { FlinkCluster } from "../../testbed/flink/cluster";
import { buildTestJobJars, type TestJobJars } from "../../testbed/flink/job";
import { useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";
import { type MutualTlsFlink, startMutualTlsFlink } from "../../testbed/gateway/flink-mtls";
import { type BasicGateway, type EntraGateway, type Gateway, startBasicGateway, startEntraGateway, startLoginGateway, startOpenGateway, startTokenGateway, type TokenGateway } from "../../testbed/gateway/nginx";
import { type ConnectionEnv, runTask, type TaskRun } from "../harness/agent";
import { startConnectProxy } from "../harness/connect-proxy";
import { connectionFor, type Scheme, secretsOf } from "../harness/emulator-connections";
import { endpointTypeDataSources, mustache, resolveDataSource } from "../harness/data-source";
import { assertValuesNotInLog } from "../harness/log-hygiene";
import { FLINK_JOBS_PICKLIST } from "../../scripts/task-manifests";
import { flinkGet, workspaceWith } from "../flink-rest/helpers";

const VERSION = CI_FLINK_VERSIONS[0]!;
const API = "api://flink-gateway";

/** Whether a registered secret is an Entra ID token for the gateway (not, say, System.AccessToken). */
function isGatewayToken(value: string): boolean {
  const payload = value.split(".")[1];
  if (!payload || value.split(".").length !== 3) return false;
  try {
    return (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { aud?: string }).aud === API;
  } catch {
    return false;
  }
}

function pemLines(pem: string): string[] {
  return pem.split(/\r?\n/).filter((l) => l.length >= 16 && !l.startsWith("-----"));
}

interface Step {
  connection: ConnectionEnv;
  /** Values that must never be shown. */
  secrets: string[];
  /** An Entra ID token from this Azure Resource Manager scheme of the emulator. */
  entra?: { scheme: Scheme; scope?: string };
  workspace: string;
  /** More agent environment (proxy, CA file). */
  env?: Record<string, string>;
}

function stepRunner(emulatorOf: () => Emulator | undefined) {
  return async function step(task: string, inputs: Record<string, string>, s: Step): Promise<TaskRun> {
    const emulator = emulatorOf();
    const arm = s.entra ? connectionFor(emulator!, s.entra.scheme) : undefined;
    const run = await runTask({
      task,
      inputs: {
        target: "flinkRest",
        flinkConnection: s.connection.id,
        pollingIntervalInSeconds: "1",
        waitTimeoutInMinutes: "3",
        ...(arm ? { entraIdConnection: arm.connection!.id, entraIdScope: s.entra!.scope ?? API } : {}),
        ...inputs,
      },
      ...(arm ? { connection: arm.connection!, ...(arm.systemAccessToken ? { systemAccessToken: arm.systemAccessToken } : {}) } : {}),
      extraConnections: [s.connection],
      variables: { ...arm?.variables, "System.Debug": "true" },
      env: { ...arm?.env, SYSTEM_DEFAULTWORKINGDIRECTORY: s.workspace, ...s.env },
      timeoutMs: 200_000,
    });
    const tokens = run.secrets.filter((v) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v));
    assertValuesNotInLog(run, [...s.secrets, ...tokens, ...(emulator ? secretsOf(emulator) : [])]);
    return run;
  };
}

/** Submit → Savepoint → Stop → Start from $(stop.savepointPath) → Cancel → Delete, each checked on Flink itself. */
async function lifecycle(step: (task: string, inputs: Record<string, string>) => Promise<TaskRun>, restGet: <T>(p: string) => Promise<T>, jobName: string): Promise<TaskRun[]> {
  const runs: TaskRun[] = [];
  const ok = (run: TaskRun, task: string) => {
    runs.push(run);
    assert.equal(run.result, "Succeeded", `${task}: ${run.resultMessage}\n${run.stdout.slice(-3000)}`);
    return run;
  };
  const submit = ok(await step("FlinkJobSubmit", { jobName, jarFile: "target/*.jar", args: "--records-per-second 50" }), "Submit");
  assert.equal(submit.outputs["jobStatus"], "RUNNING");
  assert.equal((await restGet<{ state: string }>(`/jobs/${submit.outputs["jobId"]}`)).state, "RUNNING");
  const savepoint = ok(await step("FlinkSavepoint", { jobName, operation: "trigger" }), "Savepoint");
  assert.ok(fs.existsSync(`${new URL(savepoint.outputs["savepointPath"]!).pathname}/_metadata`));
  const stop = ok(await step("FlinkJobStop", { jobName }), "Stop");
  assert.equal(stop.outputs["jobStatus"], "FINISHED");
  const start = ok(await step("FlinkJobStart", { jobName, startMode: "savepoint", savepointName: stop.outputs["savepointPath"]! }), "Start");
  const restored = await restGet<{ latest: { restored: { external_path: string } | null } }>(`/jobs/${start.outputs["jobId"]}/checkpoints`);
  assert.equal(restored.latest.restored?.external_path, stop.outputs["savepointPath"]);
  const cancel = ok(await step("FlinkJobCancel", { jobName }), "Cancel");
  assert.equal(cancel.outputs["jobStatus"], "CANCELED");
  ok(await step("FlinkJobDelete", { jobName }), "Delete");
  const jars = await restGet<{ files: Array<{ name: string }> }>("/jars");
  assert.deepEqual(jars.files.filter((f) => f.name.includes(jobName)), [], "Delete left the job's jars");
  return runs;
}

describe(`Flink REST behind gateways (nginx, Flink ${VERSION}): each scheme's lifecycle and each refusal`, function () {
  this.timeout(300_000);
  let flink: FlinkCluster;
  let emulator: Emulator;
  let jars: TestJobJars;
  let workspace: string;
  let basic: BasicGateway;
  let token: TokenGateway;
  let entra: EntraGateway;
  let entraClockShiftMs = 0;
  const gateways: Gateway[] = [];
  const started = <T extends Gateway>(g: T): T => {
    gateways.push(g);
    return g;
  };
  const step = stepRunner(() => emulator);

  const shared = useSharedFlinkCluster(VERSION);

  before(async function () {
    this.timeout(600_000);
    assert.ok(fs.existsSync("dist/tasks/FlinkJobSubmit/index.js"), "run npm run build first");
    emulator = await startEmulator({ apis: [{ applicationIdUri: API, roles: ["Flink.Operate"] }] });
    jars = shared.jars;
    flink = shared.cluster;
    workspace = workspaceWith({ "target/orders-1.0.jar": jars.v1 });
    basic = started(await startBasicGateway({ flinkUrl: flink.restUrl, https: true, pathPrefix: "/flink/orders/" }));
    token = started(await startTokenGateway({ flinkUrl: flink.restUrl }));
    entra = started(
      await startEntraGateway({
        flinkUrl: flink.restUrl,
        jwksUri: emulator.jwksUri,
        caCertPem: emulator.caCertPem,
        issuer: emulator.accessTokenIssuer,
        requiredRole: "Flink.Operate",
        now: () => Date.now() + entraClockShiftMs,
      }),
    );
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await emulator?.close();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  const basicConnection = (password = basic.password, caCertificate = basic.caCertPem!): ConnectionEnv => ({
    id: "flink-basic",
    url: `${basic.url}/`,
    scheme: "UsernamePassword",
    parameters: { username: basic.username, password },
    data: caCertificate ? { caCertificate } : {},
  });
  const tokenConnection = (apitoken = token.token): ConnectionEnv => ({ id: "flink-token", url: token.url, scheme: "Token", parameters: { apitoken }, data: {} });
  const noneConnection = (url: string, data: Record<string, string> = {}): ConnectionEnv => ({ id: "flink-open", url, scheme: "None", parameters: {}, data });
  const restGet = <T>(p: string) => flinkGet<T>(flink.restUrl, p);

  describe("each scheme runs the lifecycle", () => {
    it("Basic over https with the connection's CA, under a path prefix (URL with a trailing slash)", async () => {
      const runs = await lifecycle((task, inputs) => step(task, inputs, { connection: basicConnection(), secrets: [basic.password], workspace }), restGet, "basic-scheme");
      assert.ok(runs[0]!.secrets.includes(basic.password), "the password was not registered as a secret");
    });

    it("Token: a bearer token from the connection", async () => {
      const runs = await lifecycle((task, inputs) => step(task, inputs, { connection: tokenConnection(), secrets: [token.token], workspace }), restGet, "token-scheme");
      assert.ok(runs[0]!.secrets.includes(token.token), "the token was not registered as a secret");
    });

    it("Entra ID: a token for the gateway's application ID URI from a workload identity federation connection", async () => {
      const before = entra.tokenCheck.decisions.length;
      const runs = await lifecycle(
        (task, inputs) => step(task, inputs, { connection: noneConnection(entra.url), secrets: [], entra: { scheme: "workloadIdentity" }, workspace }),
        restGet,
        "entra-wif",
      );
      const decisions = entra.tokenCheck.decisions.slice(before);
      assert.ok(decisions.length > 0 && decisions.every((d) => d.status === 200), JSON.stringify(decisions.filter((d) => d.status !== 200)));
      assert.ok(runs.every((r) => r.secrets.some(isGatewayToken)), "the Entra ID token was not registered as a secret");
    });

    for (const scheme of ["spnKey", "spnCertificate", "managedIdentity"] as const) {
      it(`Entra ID with the ${scheme} scheme: FlinkJobStatus reads every job through the gateway`, async () => {
        const run = await step("FlinkJobStatus", {}, { connection: noneConnection(entra.url), secrets: [], entra: { scheme }, workspace });
        assert.equal(run.result, "Succeeded", run.resultMessage);
        assert.equal(Number(run.outputs["jobCount"]), JSON.parse(run.outputs["jobs"]!).length);
      });
    }
  });

  describe("classic editor: the connection's Verify and the jobName picklist, resolved as the server does", () => {
    const dataSource = (name: string) => endpointTypeDataSources("ApacheFlink").find((d) => d.name === name)!;

    for (const trailingSlash of [true, false]) {
      it(`Verify (TestConnection, GET /config) through the Basic gateway under a path prefix, URL ${trailingSlash ? "with" : "without"} a trailing slash`, async () => {
        const connection = { ...basicConnection(), url: trailingSlash ? `${basic.url}/` : basic.url };
        const answer = await resolveDataSource(dataSource("TestConnection"), connection);
        assert.equal(answer.status, 200, answer.url);
        assert.deepEqual(answer.items, [VERSION]);
      });
    }

    it("Verify fails with a wrong password or token (the gateway's 401), and passes with the Token scheme", async () => {
      assert.equal((await resolveDataSource(dataSource("TestConnection"), basicConnection(`${basic.password}x`))).status, 401);
      assert.equal((await resolveDataSource(dataSource("TestConnection"), tokenConnection(`${token.token}x`))).status, 401);
      assert.deepEqual((await resolveDataSource(dataSource("TestConnection"), tokenConnection())).items, [VERSION]);
    });

    it("jobName's picklist lists the cluster's jobs by name, with state and JobID", async () => {
      const jobName = "picklist-job";
      const s = { connection: basicConnection(), secrets: [basic.password], workspace };
      const submit = await step("FlinkJobSubmit", { jobName, jarFile: "target/*.jar" }, s);
      assert.equal(submit.result, "Succeeded", submit.resultMessage);
      try {
        const binding = FLINK_JOBS_PICKLIST;
        assert.equal(binding.endpointId, "$(flinkConnection)");
        const answer = await resolveDataSource(dataSource(binding.dataSourceName!), basicConnection());
        assert.equal(answer.status, 200, answer.url);
        const options = answer.items.map((item) => JSON.parse(mustache(binding.resultTemplate, item as Record<string, unknown>)) as { Value: string; DisplayValue: string });
        assert.ok(
          options.some((o) => o.Value === jobName && o.DisplayValue === `${jobName} (RUNNING, ${submit.outputs["jobId"]})`),
          JSON.stringify(options),
        );
      } finally {
        await step("FlinkJobCancel", { jobName }, s);
        await step("FlinkJobDelete", { jobName }, s);
      }
    });
  });

  describe("the agent's network settings apply to Flink REST as to Resource Manager", () => {
    it("a gateway on this machine is reached directly, never through the agent's proxy, bypass list or not", async () => {
      const proxy = await startConnectProxy();
      try {
        const s = { connection: basicConnection(), secrets: [basic.password], workspace };
        const direct = await step("FlinkJobStatus", {}, { ...s, env: { AGENT_PROXYURL: proxy.url } });
        assert.equal(direct.result, "Succeeded", direct.resultMessage);
        const bypassed = await step("FlinkJobStatus", {}, { ...s, env: { AGENT_PROXYURL: proxy.url, AGENT_PROXYBYPASSLIST: JSON.stringify(["127\\.0\\.0\\.1"]) } });
        assert.equal(bypassed.result, "Succeeded", bypassed.resultMessage);
        assert.deepEqual(proxy.tunnels, [], "a loopback URL went through the proxy");
      } finally {
        await proxy.close();
      }
    });

    it("Agent.CAInfo trusts the gateway's certificate without the connection's CA field", async () => {
      const run = await step("FlinkJobStatus", {}, { connection: basicConnection(basic.password, ""), secrets: [basic.password], workspace, env: { AGENT_CAINFO: basic.caCertPath! } });
      assert.equal(run.result, "Succeeded", run.resultMessage);
    });
  });

  describe("each refusal says what to fix", () => {
    const status = (connection: ConnectionEnv, secrets: string[] = [], entraScheme?: Scheme, scope?: string) =>
      step("FlinkJobStatus", {}, { connection, secrets, workspace, ...(entraScheme ? { entra: { scheme: entraScheme, ...(scope ? { scope } : {}) } } : {}) });
    const failed = (run: TaskRun, pattern: RegExp) => {
      assert.equal(run.result, "Failed", run.stdout.slice(-2000));
      assert.match(run.resultMessage ?? "", pattern);
    };

    it("a wrong password: the gateway's 401 names the connection and says to check the user name and password", async () => {
      const wrong = `${basic.password}-wrong`;
      failed(await status(basicConnection(wrong), [wrong]), /Service connection 'flink-basic' \(Basic\).*401.*refused the user name and password: check them in the connection/);
    });

    it("no credentials where the gateway asks for Basic: choose the Basic scheme", async () => {
      failed(await status(noneConnection(basic.url, { caCertificate: basic.caCertPem! })), /'flink-open' \(None\).*401.*asks for a user name and password: choose the Basic scheme/);
    });

    it("a missing token: the gateway asks for a bearer token", async () => {
      failed(await status(noneConnection(token.url)), /'flink-open' \(None\).*401.*asks for a bearer token: choose the Token scheme/);
    });

    it("a wrong token: the gateway refused it", async () => {
      const wrong = `${token.token}x`;
      failed(await status(tokenConnection(wrong), [wrong]), /'flink-token' \(Token\).*401.*refused the token: check it in the connection/);
    });

    it("an expired Entra ID token: the gateway's 401 says it has expired", async () => {
      entraClockShiftMs = 2 * 3600_000;
      try {
        failed(await status(noneConnection(entra.url), [], "spnKey"), /'flink-open' \(Entra ID token from '[^']+'\).*401.*expired/);
      } finally {
        entraClockShiftMs = 0;
      }
    });

    it("an Entra ID token for another audience (the ARM scope): refused, naming entraIdScope", async () => {
      failed(await status(noneConnection(entra.url), [], "spnKey", `${emulator.armUrl}/.default`), /401.*refused the Entra ID token .*check 'entraIdScope' is the gateway's application ID URI/);
    });

    it("an application ID URI Entra ID does not know: the token request fails, naming the connection", async () => {
      failed(await status(noneConnection(entra.url), [], "spnKey", "api://no-such-gateway"), /Input 'entraIdConnection': could not get an Entra ID token for 'api:\/\/no-such-gateway\/\.default'.*AADSTS500011/s);
    });

    // nginx passes no WWW-Authenticate with auth_request's 403, so the message has no reason to quote.
    it("the gateway's 403: a valid token without the role it requires", async () => {
      const strict = started(
        await startEntraGateway({ flinkUrl: flink.restUrl, jwksUri: emulator.jwksUri, caCertPem: emulator.caCertPem, issuer: emulator.accessTokenIssuer, requiredRole: "Flink.Admin" }),
      );
      failed(await status(noneConnection(strict.url), [], "spnKey"), /denied access \(403\).*grant the identity of '[^']+' the gateway's app role/);
    });

    for (const style of ["redirect", "page"] as const) {
      it(`a sign-in page (${style === "redirect" ? "302 to /oauth2/start" : "HTML 200"}): a pipeline cannot sign in in a browser`, async () => {
        const login = started(await startLoginGateway({ flinkUrl: flink.restUrl, style }));
        failed(await status(noneConnection(login.url)), /'flink-open' \(None\).*answered with a sign-in page for people/);
      });
    }

    it("an untrusted server certificate: put the CA in the connection's CA certificate", async () => {
      failed(await status(basicConnection(basic.password, "")), /'flink-basic' \(Basic\).*certificate of https:\/\/127\.0\.0\.1:\d+\/flink\/orders\/ is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\).*CA certificate/);
    });

    it("a redirect to another host: the credentials are not sent there", async () => {
      const redirecting = started(await startBasicGateway({ flinkUrl: flink.restUrl, redirectToOtherHost: true }));
      const connection: ConnectionEnv = { id: "flink-redirect", url: redirecting.url, scheme: "UsernamePassword", parameters: { username: redirecting.username, password: redirecting.password }, data: {} };
      failed(await status(connection, [redirecting.password]), /'flink-redirect' \(Basic\).*redirected to another host \(307 to http:\/\/127\.0\.0\.2:\d+\/.*never send the connection's credentials to another host/);
      const reached = await redirecting.otherHost!.requests();
      assert.deepEqual(reached.filter((r) => r.authorization !== undefined), [], "the other host received credentials");
    });

    it("credentials over plain http:// to a host other than this one: refused before any call, unless the connection allows it", async () => {
      const remote: ConnectionEnv = { id: "flink-remote", url: "http://flink.contoso.internal:8081", scheme: "UsernamePassword", parameters: { username: "ci", password: "never-sent-password-1" }, data: {} };
      const refused = await status(remote, ["never-sent-password-1"]);
      failed(refused, /'flink-remote' would send its credentials over plain http:\/\/ to flink\.contoso\.internal:8081.*allowInsecureHttp/);
      assert.doesNotMatch(refused.stdout, /ENOTFOUND|Could not reach/, "a call was made");
      // Allowed explicitly, the task tries to reach it (and fails only because the host does not exist).
      const allowed = await status({ ...remote, data: { allowInsecureHttp: "true" } }, ["never-sent-password-1"]);
      failed(allowed, /Could not reach Flink at http:\/\/flink\.contoso\.internal:8081\//);
    });

    it("an open gateway over https with the connection's CA: scheme None needs no credentials", async () => {
      const open = started(await startOpenGateway({ flinkUrl: flink.restUrl, https: true }));
      const run = await status(noneConnection(open.url, { caCertificate: open.caCertPem! }));
      assert.equal(run.result, "Succeeded", run.resultMessage);
    });
  });
});

describe(`Flink ${VERSION} with its own REST mutual TLS: the Certificate scheme`, function () {
  this.timeout(300_000);
  let flink: MutualTlsFlink;
  let workspace: string;
  const step = stepRunner(() => undefined);

  before(async function () {
    this.timeout(600_000);
    const jars = await buildTestJobJars(VERSION);
    flink = await startMutualTlsFlink({ version: VERSION });
    workspace = workspaceWith({ "target/orders-1.0.jar": jars.v1 });
  });
  after(async () => {
    await flink?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  const certConnection = (certificate: string, caCertificate = flink.caCertPem): ConnectionEnv => ({
    id: "flink-mtls",
    url: flink.url,
    scheme: "Certificate",
    parameters: { certificate },
    data: { caCertificate },
  });
  /** GET with the client certificate, to check the effect on Flink itself. */
  const restGet = async <T>(p: string): Promise<T> => {
    const https = await import("node:https");
    return new Promise<T>((resolve, reject) => {
      https
        .get(`${flink.url}${p}`, { ca: flink.caCertPem, cert: flink.clientCertPem, key: flink.clientKeyPem, agent: false }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString("utf8")));
          res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`GET ${p}: ${res.statusCode} ${text}`))));
        })
        .on("error", reject);
    });
  };

  it("the lifecycle with the client certificate and key from the connection", async () => {
    const pem = `${flink.clientCertPem}\n${flink.clientKeyPem}`;
    const runs = await lifecycle((task, inputs) => step(task, inputs, { connection: certConnection(pem), secrets: pemLines(flink.clientKeyPem), workspace }), restGet, "mtls-scheme");
    for (const line of pemLines(flink.clientKeyPem)) assert.ok(runs[0]!.secrets.includes(line), "a line of the private key was not registered as a secret");
  });

  it("no client certificate: Flink asks for one (mutual TLS)", async () => {
    const run = await step("FlinkJobStatus", {}, { connection: { id: "flink-mtls", url: flink.url, scheme: "None", parameters: {}, data: { caCertificate: flink.caCertPem } }, secrets: [], workspace });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /'flink-mtls' \(None\).*asks for a client certificate \(mutual TLS.*choose the Client certificate scheme/);
  });

  it("a client certificate Flink does not trust: refused in the handshake, saying what Flink trusts", async () => {
    const pem = `${fs.readFileSync(flink.untrustedClientCertPath, "utf8")}\n${fs.readFileSync(flink.untrustedClientKeyPath, "utf8")}`;
    const run = await step("FlinkJobStatus", {}, { connection: certConnection(pem), secrets: pemLines(fs.readFileSync(flink.untrustedClientKeyPath, "utf8")), workspace });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /'flink-mtls' \(Client certificate\).*refused the connection's client certificate in the TLS handshake.*truststore/);
  });

  it("a certificate without its key: refused before any call", async () => {
    const run = await step("FlinkJobStatus", {}, { connection: certConnection(flink.clientCertPem), secrets: [], workspace });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /'flink-mtls' holds a client certificate without its private key/);
  });

  it("Flink's certificate without the connection's CA: not trusted", async () => {
    const pem = `${flink.clientCertPem}\n${flink.clientKeyPem}`;
    const run = await step("FlinkJobStatus", {}, { connection: { ...certConnection(pem), data: {} }, secrets: pemLines(flink.clientKeyPem), workspace });
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  });
});
