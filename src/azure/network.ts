import { Agent as HttpsAgent, type AgentOptions } from "node:https";
import { rootCertificates } from "node:tls";
import { createDefaultHttpClient, type HttpClient, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { TokenCredentialOptions } from "@azure/identity";
import { HttpsProxyAgent } from "https-proxy-agent";

/** The agent's network settings, as far as our HTTPS calls need them. */
export interface NetworkSettings {
  /** Proxy for Resource Manager calls (absent when none, or when the ARM host is bypassed). */
  armProxy?: ProxySettings;
  /**
   * The agent's proxy for one identity request (Entra ID, the Azure DevOps OIDC endpoint, a
   * managed identity endpoint), decided for that request's own host by the agent's bypass list:
   * the OIDC endpoint may be bypassed while Entra ID is not, or the reverse. Absent: no proxy.
   */
  identityProxyFor?: (url: string) => ProxySettings | undefined;
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
  return settings.armProxy ? proxyAgent(settings.armProxy, settings) : new HttpsAgent(tlsOptions(settings));
}

function tlsOptions(settings: NetworkSettings): AgentOptions {
  const tls: AgentOptions = { keepAlive: true };
  const trusted = ca(settings);
  if (trusted) tls.ca = trusted;
  return tls;
}

function proxyAgent(proxy: ProxySettings, settings: NetworkSettings): HttpsProxyAgent<string> {
  const proxyUrl = new URL(proxy.url);
  if (proxy.username) {
    proxyUrl.username = encodeURIComponent(proxy.username);
    proxyUrl.password = encodeURIComponent(proxy.password ?? "");
  }
  const tls = tlsOptions(settings);
  const agent = new HttpsProxyAgent(proxyUrl, tls);
  // The constructor's options reach only the connection to the proxy; Node merges
  // `agent.options` into each request's, which is what the tunnelled TLS connection gets.
  if (tls.ca) agent.options.ca = tls.ca;
  return agent;
}

/**
 * The link-local address of the Azure Instance Metadata Service, where a VM's managed identity
 * gets its tokens. It answers only from inside the VM: through a proxy it cannot be reached, and
 * the identity's token would pass through the proxy.
 */
export const INSTANCE_METADATA_HOST = "169.254.169.254";

/** Whether a request to `url` may use the agent's proxy at all. */
export function mayUseProxy(url: string): boolean {
  try {
    return new URL(url).hostname !== INSTANCE_METADATA_HOST;
  } catch {
    return false;
  }
}

/** The proxy one identity request uses: its own host's decision, never for the metadata endpoint. */
export function identityProxyFor(settings: NetworkSettings, url: string): ProxySettings | undefined {
  return mayUseProxy(url) ? settings.identityProxyFor?.(url) : undefined;
}

/**
 * The same settings in the shape @azure/identity takes them. The proxy is chosen per request
 * (core-rest-pipeline's proxyOptions would send every identity request, the metadata endpoint's
 * included, through the proxy chosen for the Entra host): an HTTP client that sets each request's
 * agent, after every pipeline policy, so neither proxyOptions nor HTTPS_PROXY overrides it.
 * ManagedIdentityCredential replaces additionalPolicies but keeps httpClient.
 */
export function identityClientOptions(settings: NetworkSettings, userAgentPrefix: string): TokenCredentialOptions {
  const options: TokenCredentialOptions = { userAgentOptions: { userAgentPrefix }, httpClient: new IdentityHttpClient(settings) };
  const trusted = ca(settings);
  if (trusted) (options as { tlsOptions?: { ca: string[] } }).tlsOptions = { ca: trusted };
  return options;
}

/** The identity requests' HTTP client; remembers the last connection failure (see lastFailure). */
export class IdentityHttpClient implements HttpClient {
  private readonly inner = createDefaultHttpClient();
  private readonly proxied = new Map<string, HttpsProxyAgent<string>>();
  private direct: HttpsAgent | undefined;
  /**
   * The last request that failed before any answer (TLS, DNS, refused, proxy), with Node's own
   * words: MSAL reports such a failure as `endpoints_resolution_error` or `network_error` alone.
   */
  lastFailure: { host: string; message: string } | undefined;

  constructor(private readonly settings: NetworkSettings) {}

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const proxy = identityProxyFor(this.settings, request.url);
    if (proxy) {
      let agent = this.proxied.get(proxy.url);
      if (!agent) this.proxied.set(proxy.url, (agent = proxyAgent(proxy, this.settings)));
      request.agent = agent;
    } else {
      // Direct, whatever a policy chose from HTTPS_PROXY; over https with the agent's CA.
      request.agent = request.url.toLowerCase().startsWith("https:") ? (this.direct ??= new HttpsAgent(tlsOptions(this.settings))) : undefined;
    }
    try {
      return await this.inner.sendRequest(request);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (!request.abortSignal?.aborted) this.lastFailure = { host: new URL(request.url).host, message: [e.message, e.code && `(${e.code})`].filter(Boolean).join(" ") };
      throw error;
    }
  }
}
