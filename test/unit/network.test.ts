/**
 * Which identity requests take the agent's proxy: each decided for its own URL, and the VM
 * metadata endpoint (managed identity) never. Real requests through a real CONNECT proxy.
 */
import assert from "node:assert/strict";
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import axios from "axios";
import { armHttpsAgent, identityClientOptions, type NetworkSettings } from "../../src/azure/network";
import { type Emulator, startEmulator } from "../../emulator/index";
import { type ConnectProxy, startConnectProxy } from "../harness/connect-proxy";
import { withoutNock } from "../harness/without-nock";

describe("identity requests and the agent's proxy", function () {
  this.timeout(60_000);
  withoutNock();
  let emulator: Emulator;
  let proxy: ConnectProxy;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => emulator.close());
  beforeEach(async () => {
    proxy = await startConnectProxy();
  });
  afterEach(async () => proxy.close());

  const send = async (settings: NetworkSettings, url: string) => {
    const { httpClient } = identityClientOptions({ ...settings, caCertificates: [emulator.caCertPem] }, "test");
    const request = createPipelineRequest({ url, timeout: 1_500, allowInsecureConnection: true });
    return httpClient!.sendRequest(request).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
  };

  it("the VM metadata endpoint (169.254.169.254) never goes through the proxy, even when the agent's proxy covers every host", async () => {
    const everywhere: NetworkSettings = { identityProxyFor: () => ({ url: proxy.url }) };
    await send(everywhere, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com");
    assert.deepEqual(proxy.tunnels, [], "no CONNECT to the metadata endpoint");
    assert.deepEqual(proxy.forwarded, [], "no proxied plain-HTTP request to it");
    // The same settings do send another identity host through the proxy.
    const openid = `${emulator.authorityHost}${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
    assert.equal(await send(everywhere, openid), 200);
    assert.deepEqual(proxy.tunnels, [new URL(openid).host]);
  });

  it("each identity request follows its own host's decision: one host through the proxy, another bypassed", async () => {
    // Both names reach the emulator; the agent's bypass list (here: localhost) covers only one.
    const viaIp = `${emulator.authorityHost}${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
    const viaName = viaIp.replace("127.0.0.1", "localhost");
    const settings: NetworkSettings = { identityProxyFor: (url) => (new URL(url).hostname === "localhost" ? undefined : { url: proxy.url }) };
    emulator.log.clear();
    assert.equal(await send(settings, viaName), 200);
    assert.equal(await send(settings, viaIp), 200);
    assert.deepEqual(proxy.tunnels, [new URL(viaIp).host], "only the host the bypass list does not cover was tunnelled");
    const [direct, tunnelled] = emulator.log.entries({ route: "openid" });
    assert.ok(direct && tunnelled);
    assert.ok(!proxy.upstreamPorts.has(direct.remotePort), "the bypassed request came straight to the server");
    assert.ok(proxy.upstreamPorts.has(tunnelled.remotePort), "the other one came through the tunnel");
  });

  it("a proxied identity request still trusts the agent's CA (the tunnelled TLS gets it)", async () => {
    const openid = `${emulator.authorityHost}${emulator.tenantId}/v2.0/.well-known/openid-configuration`;
    assert.equal(await send({ identityProxyFor: () => ({ url: proxy.url }) }, openid), 200);
  });
});

describe("Resource Manager requests and the agent's proxy", function () {
  withoutNock();
  this.timeout(60_000);
  it("go through the proxy and trust the agent's CA in the tunnel", async () => {
    const emulator = await startEmulator();
    const proxy = await startConnectProxy();
    try {
      const httpsAgent = armHttpsAgent({ armProxy: { url: proxy.url }, caCertificates: [emulator.caCertPem] });
      const r = await axios.get(`${emulator.authorityHost}${emulator.tenantId}/v2.0/.well-known/openid-configuration`, { httpsAgent, proxy: false });
      assert.equal(r.status, 200);
      assert.deepEqual(proxy.tunnels, [new URL(emulator.url).host]);
    } finally {
      await proxy.close();
      await emulator.close();
    }
  });
});
