import { Agent as HttpsAgent, type AgentOptions } from "node:https";
import { rootCertificates } from "node:tls";
import type { TokenCredentialOptions } from "@azure/identity";
import { HttpsProxyAgent } from "https-proxy-agent";

/** The agent's network settings, as far as our HTTPS calls need them. */
export interface NetworkSettings {
  /** Proxy for Resource Manager calls (absent when none, or when the ARM host is bypassed). */
  armProxy?: ProxySettings;
  /** Proxy for Entra ID, OIDC and managed identity calls. */
  identityProxy?: ProxySettings;
  /** Extra trusted CA certificates (PEM), added to Node's own roots. */
  caCertificates?: string[];
}

export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
}

function ca(settings: NetworkSettings): string[] | undefined {
  // Setting `ca` replaces Node's roots, so keep them beside the agent's own CA.
  return settings.caCertificates?.length ? [...rootCertificates, ...settings.caCertificates] : undefined;
}

/** The HTTPS agent for Resource Manager calls: CONNECT through the proxy, the agent's CA trusted. */
export function armHttpsAgent(settings: NetworkSettings): HttpsAgent | undefined {
  const tls: AgentOptions = { keepAlive: true };
  const trusted = ca(settings);
  if (trusted) tls.ca = trusted;
  if (settings.armProxy) {
    const proxyUrl = new URL(settings.armProxy.url);
    if (settings.armProxy.username) {
      proxyUrl.username = encodeURIComponent(settings.armProxy.username);
      proxyUrl.password = encodeURIComponent(settings.armProxy.password ?? "");
    }
    return new HttpsProxyAgent(proxyUrl, tls);
  }
  return new HttpsAgent(tls);
}

/** The same settings in the shape @azure/identity (core-rest-pipeline) takes them. */
export function identityClientOptions(settings: NetworkSettings, userAgentPrefix: string): TokenCredentialOptions {
  const options: TokenCredentialOptions = { userAgentOptions: { userAgentPrefix } };
  const trusted = ca(settings);
  if (trusted) (options as { tlsOptions?: { ca: string[] } }).tlsOptions = { ca: trusted };
  if (settings.identityProxy) {
    const proxy = new URL(settings.identityProxy.url);
    options.proxyOptions = {
      host: `${proxy.protocol}//${proxy.hostname}`,
      port: Number(proxy.port) || (proxy.protocol === "https:" ? 443 : 80),
      ...(settings.identityProxy.username ? { username: settings.identityProxy.username, password: settings.identityProxy.password ?? "" } : {}),
    };
  }
  return options;
}
