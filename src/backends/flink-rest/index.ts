/**
 * The Flink REST backend: any Apache Flink session cluster (1.15+; tested on 1.20 and 2.x),
 * reached through its JobManager's REST API with an `ApacheFlink` service connection.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type AgentOptions } from "node:https";
import { rootCertificates } from "node:tls";
import { HttpsProxyAgent } from "https-proxy-agent";
import type { NetworkSettings } from "../../azure/network";
import { ConnectionError } from "../../errors";
import type { Backend, BackendModule, CommonInputs } from "../../jobs/backend";
import type { PipelineHost } from "../../pipeline/host";
import { FlinkRestActions } from "./actions";
import { FlinkApi } from "./api";
import { FlinkRestClient } from "./client";
import { type EntraTokenInputs, type FlinkEndpoint, isLoopbackUrl, refuseCredentialsThroughProxy, restEndpoint } from "./connection";
import { flinkRestDeploy } from "./deploy";
import { type FlinkRestInputs, validateFlinkRestInputs } from "./inputs";

export type { FlinkRestInputs } from "./inputs";
export { restEndpoint } from "./connection";

/** The ApacheFlink connection's data fields (vss-extension.json). */
const CONNECTION_DATA = ["caCertificate", "allowInsecureHttp"];

export const flinkRestBackend: BackendModule<FlinkRestInputs> = {
  target: "flinkRest",
  deploys: true,
  validate: validateFlinkRestInputs,
  connect(host: PipelineHost, _common: CommonInputs, inputs: FlinkRestInputs): Backend<FlinkRestInputs> {
    const connection = host.endpoint(inputs.connectionInput, CONNECTION_DATA);
    const endpoint = restEndpoint(connection, inputs.connectionInput, inputs.entra);
    const entra = inputs.entra ? entraToken(host, inputs.entra, endpoint.baseUrl) : undefined;
    // The agent's proxy (with its bypass list) and CA for this URL, as for Resource Manager calls.
    const network = entra?.network ?? host.network(endpoint.baseUrl, endpoint.baseUrl);
    // A loopback URL goes direct: through a proxy it would leave the machine, credentials and all.
    if (isLoopbackUrl(endpoint.baseUrl)) delete network.armProxy;
    refuseCredentialsThroughProxy(endpoint, inputs.connectionInput, connection.id, network.armProxy?.url);
    const agent = flinkAgent(endpoint, network);
    const authorization = entra?.authorization ?? (endpoint.bearerToken ? () => Promise.resolve(`Bearer ${endpoint.bearerToken}`) : undefined);
    const client = new FlinkRestClient({
      baseUrl: endpoint.baseUrl,
      ...(endpoint.basicAuth ? { basicAuth: endpoint.basicAuth } : {}),
      ...(authorization ? { authorization } : {}),
      access: endpoint.access,
      agent,
      userAgent: host.userAgent,
      logger: host.logger,
    });
    const api = new FlinkApi(client);
    const context = { api, workingDirectory: host.workingDirectory(), where: client.urlOf("/") };
    return {
      target: "flinkRest",
      describe: () => [
        ["Flink REST", context.where],
        ["Service connection", `${connection.id} (${endpoint.access.scheme}${endpoint.access.entra ? ` from ${endpoint.access.entra.connectionId}` : ""})`],
      ],
      act: (request, options) => new FlinkRestActions(context, options, request.jobName).act(request),
      readStatus: (query, options) => new FlinkRestActions(context, options, query.jobName).readStatus(query.waitForStatus),
      deploy: (request, options) => flinkRestDeploy(context, request, options),
      close: () => agent.destroy(),
    };
  },
};

/**
 * The socket agent for the cluster: the agent's proxy unless its bypass list names the host, the
 * connection's CA beside Node's roots and Agent.CAInfo, and the client certificate for mutual TLS.
 */
function flinkAgent(endpoint: FlinkEndpoint, network: NetworkSettings): HttpsAgent | HttpAgent {
  const https = endpoint.baseUrl.startsWith("https:");
  const extraCa = [...(network.caCertificates ?? []), ...endpoint.caCertificates];
  const tls: AgentOptions = { keepAlive: true };
  // Setting `ca` replaces Node's roots, so keep them beside the extra ones.
  if (extraCa.length) tls.ca = [...rootCertificates, ...extraCa];
  if (endpoint.clientCertificate) {
    tls.cert = endpoint.clientCertificate.cert;
    tls.key = endpoint.clientCertificate.key;
  }
  if (network.armProxy) {
    const proxyUrl = new URL(network.armProxy.url);
    if (network.armProxy.username) {
      proxyUrl.username = encodeURIComponent(network.armProxy.username);
      proxyUrl.password = encodeURIComponent(network.armProxy.password ?? "");
    }
    const agent = new HttpsProxyAgent(proxyUrl, { keepAlive: true });
    // The constructor's options reach only the connection to the proxy; Node merges
    // `agent.options` into each request's, which is what the tunnelled TLS connection gets.
    Object.assign(agent.options, { ca: tls.ca, cert: tls.cert, key: tls.key });
    return agent;
  }
  return https ? new HttpsAgent(tls) : new HttpAgent({ keepAlive: true });
}

/**
 * An Entra ID token for the gateway from an Azure Resource Manager connection (any of its four
 * schemes). @azure/identity is loaded here only, so a run without Entra ID never evaluates it.
 */
function entraToken(host: PipelineHost, entra: EntraTokenInputs, baseUrl: string): { network: NetworkSettings; authorization: () => Promise<string> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: the identity stack only when Entra ID is used
  const credentials = require("../../azure/credentials") as typeof import("../../azure/credentials");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as above
  const { identityClientOptions } = require("../../azure/network") as typeof import("../../azure/network");
  const armConnection = host.serviceConnection(entra.connectionInput);
  const network = host.network(baseUrl, credentials.authorityHost(armConnection));
  const credential = credentials.createCredential(armConnection, {
    clientOptions: identityClientOptions(network, host.userAgent),
    onToken: (token) => host.setSecret(token),
  });
  let cached: { token: string; refreshAfter: number } | undefined;
  const authorization = async (): Promise<string> => {
    if (cached && Date.now() < cached.refreshAfter) return `Bearer ${cached.token}`;
    let token: Awaited<ReturnType<typeof credential.getToken>>;
    try {
      token = await credential.getToken(entra.scope);
    } catch (error) {
      throw new ConnectionError(
        `Input '${entra.connectionInput}': could not get an Entra ID token for '${entra.scope}' with the service connection '${armConnection.id}': ${(error as Error).message}`,
      );
    }
    if (!token) throw new ConnectionError(`Input '${entra.connectionInput}': the service connection '${armConnection.id}' gave no Entra ID token for '${entra.scope}'`);
    // Renew five minutes before expiry (or halfway through a shorter life).
    const life = token.expiresOnTimestamp - Date.now();
    cached = { token: token.token, refreshAfter: Date.now() + Math.max(0, Math.min(life - 300_000, life / 2)) };
    return `Bearer ${token.token}`;
  };
  return { network, authorization };
}
