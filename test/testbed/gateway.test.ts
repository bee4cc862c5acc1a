import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { startEmulator, type Emulator } from "../../emulator/index";
import { startFlinkCluster, type FlinkCluster } from "../../testbed/flink/cluster";
import { CI_FLINK_VERSIONS } from "../../testbed/flink/versions";
import { startMutualTlsFlink, type MutualTlsFlink } from "../../testbed/gateway/flink-mtls";
import {
  startBasicGateway,
  startEntraGateway,
  startLoginGateway,
  startOpenGateway,
  startTokenGateway,
  type Gateway,
} from "../../testbed/gateway/nginx";

// The test bed's gateways and Flink's own mutual TLS, checked with plain node:http(s): each lets
// the right credentials through to the real Flink and answers wrong or missing ones as a client
// will see it. One Flink version (the first of CI) and one cluster at a time.
const VERSION = CI_FLINK_VERSIONS[0]!;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function get(url: string, options: { headers?: Record<string, string>; ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const request = client.get(url, { headers: options.headers, ca: options.ca, cert: options.cert, key: options.key, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/** The request reached Flink itself: GET /config answers its version. */
function assertFlinkConfig(answer: Answer): void {
  assert.equal(answer.status, 200, answer.text);
  assert.equal((JSON.parse(answer.text) as Record<string, unknown>)["flink-version"], VERSION);
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe(`testbed: nginx gateways in front of a real Flink ${VERSION}`, function () {
  this.timeout(240_000);
  let flink: FlinkCluster;
  let emulator: Emulator;
  const gateways: Gateway[] = [];
  const started = <T extends Gateway>(gateway: T): T => {
    gateways.push(gateway);
    return gateway;
  };

  before(async () => {
    emulator = await startEmulator({ apis: [{ applicationIdUri: "api://flink-gateway", roles: ["Flink.Operate"] }] });
    flink = await startFlinkCluster({ version: VERSION, slots: 1 });
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
  });
  after(async () => {
    await flink?.stop();
    await emulator?.close();
  });

  async function entraToken(scope: string): Promise<string> {
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: emulator.servicePrincipal.clientId,
      client_secret: emulator.servicePrincipal.clientSecret,
      scope,
    });
    const response = await new Promise<Answer>((resolve, reject) => {
      const request = https.request(
        `${emulator.authorityHost}${emulator.tenantId}/oauth2/v2.0/token`,
        { method: "POST", ca: emulator.caCertPem, headers: { "content-type": "application/x-www-form-urlencoded" } },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      request.on("error", reject);
      request.end(form.toString());
    });
    assert.equal(response.status, 200, response.text);
    return (JSON.parse(response.text) as { access_token: string }).access_token;
  }

  it("open, under a path prefix: /flink/orders/config is Flink's /config; the gateway's own root is not Flink", async () => {
    const gateway = started(await startOpenGateway({ flinkUrl: flink.restUrl, pathPrefix: "/flink/orders/" }));
    assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+\/flink\/orders$/);
    assertFlinkConfig(await get(`${gateway.url}/config`));
    assert.equal((await get(`http://127.0.0.1:${gateway.port}/config`)).status, 404);
  });

  it("basic: the right user and password reach Flink; a wrong password or none gets 401 with a Basic challenge", async () => {
    const gateway = started(await startBasicGateway({ flinkUrl: flink.restUrl }));
    assertFlinkConfig(await get(`${gateway.url}/config`, { headers: basic(gateway.username, gateway.password) }));
    for (const headers of [basic(gateway.username, `${gateway.password}x`), basic("someone-else", gateway.password), {}]) {
      const refused = await get(`${gateway.url}/config`, { headers });
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.match(String(refused.headers["www-authenticate"]), /^Basic realm="Flink"/);
    }
  });

  it("token: the static bearer token reaches Flink; a wrong token, another scheme or none gets 401 with a Bearer challenge", async () => {
    const gateway = started(await startTokenGateway({ flinkUrl: flink.restUrl }));
    assertFlinkConfig(await get(`${gateway.url}/config`, { headers: bearer(gateway.token) }));
    for (const headers of [bearer(`${gateway.token}x`), basic("user", gateway.token), {}]) {
      const refused = await get(`${gateway.url}/config`, { headers });
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.match(String(refused.headers["www-authenticate"]), /^Bearer realm="flink-gateway"/);
    }
  });

  it("entra: an emulator token for the gateway's application ID URI reaches Flink; none, another audience, a forged signature or an expired one get 401", async () => {
    let clockShiftMs = 0;
    const gateway = started(
      await startEntraGateway({
        flinkUrl: flink.restUrl,
        jwksUri: emulator.jwksUri,
        caCertPem: emulator.caCertPem,
        issuer: emulator.accessTokenIssuer,
        now: () => Date.now() + clockShiftMs,
      }),
    );
    assert.equal(gateway.scope, "api://flink-gateway/.default");
    const token = await entraToken(gateway.scope);
    assertFlinkConfig(await get(`${gateway.url}/config`, { headers: bearer(token) }));

    const refusedFor = async (headers: Record<string, string>, description: RegExp) => {
      const refused = await get(`${gateway.url}/config`, { headers });
      assert.equal(refused.status, 401, refused.text);
      assert.match(String(refused.headers["www-authenticate"]), /^Bearer realm="flink-gateway"/);
      assert.match(String(refused.headers["www-authenticate"]), description);
    };
    await refusedFor({}, /^Bearer realm="flink-gateway"$/);
    await refusedFor(bearer(await entraToken(`${emulator.armUrl}/.default`)), /error="invalid_token".*audience/);
    const [header, claims] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims!, "base64url").toString()), roles: ["Flink.Admin"] })).toString("base64url");
    await refusedFor(bearer(`${header}.${forged}.${token.split(".")[2]}`), /error="invalid_token".*signature/);
    clockShiftMs = 2 * 3600_000; // past the emulator's one-hour lifetime
    await refusedFor(bearer(token), /error="invalid_token".*expired/);
    assert.deepEqual(gateway.tokenCheck.decisions.map((d) => d.status), [200, 401, 401, 401, 401]);
  });

  it("entra with a required role: a valid token without it gets 403 insufficient_scope; with it, Flink", async () => {
    const options = { flinkUrl: flink.restUrl, jwksUri: emulator.jwksUri, caCertPem: emulator.caCertPem, issuer: emulator.accessTokenIssuer };
    const admin = started(await startEntraGateway({ ...options, requiredRole: "Flink.Admin" }));
    const operate = started(await startEntraGateway({ ...options, requiredRole: "Flink.Operate" }));
    const token = await entraToken(admin.scope);
    const refused = await get(`${admin.url}/config`, { headers: bearer(token) });
    assert.equal(refused.status, 403, refused.text);
    assertFlinkConfig(await get(`${operate.url}/config`, { headers: bearer(token) }));
  });

  it("login redirect: 302 to /oauth2/start, which is an HTML 200 sign-in page; login page: HTML 200 for Flink's routes", async () => {
    const redirect = started(await startLoginGateway({ flinkUrl: flink.restUrl, style: "redirect" }));
    const first = await get(`${redirect.url}/config`, { headers: basic("user", "password") });
    assert.equal(first.status, 302);
    const location = new URL(String(first.headers.location));
    assert.equal(location.pathname, "/oauth2/start");
    assert.equal(location.searchParams.get("rd"), "/config");
    const page = await get(location.href);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.text, /Sign in/);

    const loginPage = started(await startLoginGateway({ flinkUrl: flink.restUrl, style: "page" }));
    const answer = await get(`${loginPage.url}/jobs/overview`, { headers: bearer("a-token") });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers["content-type"]), /^text\/html/);
    assert.throws(() => JSON.parse(answer.text));
  });

  it("https with a test CA, basic auth and a prefix: trusted with caCertPath; without it the certificate is refused", async () => {
    const gateway = started(await startBasicGateway({ flinkUrl: flink.restUrl, https: true, pathPrefix: "/flink" }));
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+\/flink$/);
    const ca = readFileSync(gateway.caCertPath!);
    assertFlinkConfig(await get(`${gateway.url}/config`, { ca, headers: basic(gateway.username, gateway.password) }));
    await assert.rejects(get(`${gateway.url}/config`, { headers: basic(gateway.username, gateway.password) }), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT/);
      return true;
    });
    assert.equal((await get(`${gateway.url}/config`, { ca })).status, 401);
  });

  it("redirect to another host: 307 to 127.0.0.2, which serves Flink and records the Authorization it was sent", async () => {
    const gateway = started(await startBasicGateway({ flinkUrl: flink.restUrl, redirectToOtherHost: true }));
    const first = await get(`${gateway.url}/config`, { headers: basic(gateway.username, gateway.password) });
    assert.equal(first.status, 307);
    const location = String(first.headers.location);
    assert.equal(location, `${gateway.otherHost!.url}/config`);
    assert.match(location, /^http:\/\/127\.0\.0\.2:\d+\/config$/);
    assertFlinkConfig(await get(location)); // followed without credentials
    await get(location, { headers: basic(gateway.username, gateway.password) }); // followed with them
    assert.deepEqual(await gateway.otherHost!.requests(), [
      { method: "GET", uri: "/config", authorization: undefined },
      { method: "GET", uri: "/config", authorization: basic(gateway.username, gateway.password).authorization },
    ]);
  });
});

describe(`testbed: Flink ${VERSION}'s own REST SSL with client authentication`, function () {
  this.timeout(300_000);
  let flink: MutualTlsFlink;
  before(async () => {
    flink = await startMutualTlsFlink({ version: VERSION, slots: 1 });
  });
  after(async () => {
    await flink?.stop();
  });

  it("the client certificate from clientCertPath/clientKeyPath, trusting caCertPath, reaches Flink", async () => {
    assert.match(flink.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assertFlinkConfig(await get(`${flink.url}/config`, { ca: readFileSync(flink.caCertPath), cert: readFileSync(flink.clientCertPath), key: readFileSync(flink.clientKeyPath) }));
  });

  it("no client certificate, or one from another CA: the TLS handshake fails", async () => {
    const ca = readFileSync(flink.caCertPath);
    for (const certificate of [{}, { cert: readFileSync(flink.untrustedClientCertPath), key: readFileSync(flink.untrustedClientKeyPath) }]) {
      await assert.rejects(get(`${flink.url}/config`, { ca, ...certificate }), (err: NodeJS.ErrnoException) => {
        assert.match(`${err.code} ${err.message}`, /EPROTO|ECONNRESET|alert/i);
        return true;
      });
    }
  });

  it("without caCertPath the server certificate is not trusted", async () => {
    await assert.rejects(get(`${flink.url}/config`, { cert: flink.clientCertPem, key: flink.clientKeyPem }), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      return true;
    });
  });
});
