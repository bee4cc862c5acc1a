/**
 * The Flink REST backend: any Apache Flink session cluster (1.15+; tested on 1.20 and 2.x),
 * reached through its JobManager's REST API with an `ApacheFlink` service connection.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type AgentOptions } from "node:https";
import { rootCertificates } from "node:tls";
import { HttpsProxyAgent } from "https-proxy-agent";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { authorityHost } from "../../azure/authority";
import type { NetworkSettings } from "../../azure/network";
import { ConnectionError } from "../../errors";
import type { Backend, BackendModule, CommonInputs } from "../../jobs/backend";
import type { PipelineHost } from "../../pipeline/host";
import { FlinkRestActions } from "./actions";
import { FlinkApi } from "./api";
import { FlinkRestClient } from "./client";
import { connectionLabel, type EntraTokenInputs, type FlinkEndpoint, isLoopbackUrl, refuseCredentialsThroughProxy, restEndpoint } from "./connection";
import { flinkRestDeploy } from "./deploy";
import { type FlinkRestInputs, resolveJarFile, validateFlinkRestInputs } from "./inputs";
import { flinkSummaryFacts } from "./summary-facts";

export type { FlinkRestInputs } from "./inputs";
export { restEndpoint } from "./connection";

/** The ApacheFlink connection's data fields (vss-extension.json). */
const CONNECTION_DATA = ["caCertificate", "allowInsecureHttp"];

export const flinkRestBackend: BackendModule<FlinkRestInputs> = {
  target: "flinkRest",
  deploys: true,
  validate: validateFlinkRestInputs,
  connect(host: PipelineHost, _common: CommonInputs, inputs: FlinkRestInputs): Backend<FlinkRestInputs> {
    // The jar first: a pattern matching nothing, several files or no .jar is an input error before any call.
    const workingDirectory = host.workingDirectory();
    if (inputs.jarFile) inputs.jarFile = resolveJarFile("jarFile", inputs.jarFile, workingDirectory).path;
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
    const context = { api, workingDirectory, where: client.urlOf("/") };
    return {
      target: "flinkRest",
      describe: () => [
        ["Flink REST", context.where],
        connectionLabel(endpoint.access),
      ],
      summaryFacts: (job, signal) => flinkSummaryFacts(api, context.where, job, signal),
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
 * schemes). @azure/identity is fetched at the first token only, so a run without Entra ID never
 * loads it (in the bundle it is a file of its own: see src/backends/index.ts).
 */
function entraToken(host: PipelineHost, entra: EntraTokenInputs, baseUrl: string): { network: NetworkSettings; authorization: () => Promise<string> } {
  const armConnection = host.serviceConnection(entra.connectionInput);
  const network = host.network(baseUrl, authorityHost(armConnection));
  let made: Promise<TokenCredential> | undefined;
  const makeCredential = async (): Promise<TokenCredential> => {
    const [credentials, { identityClientOptions }] = globalThis.FLINK_TASKS_SPLIT_BUNDLE
      ? await Promise.all([import("../../azure/credentials.js"), import("../../azure/network.js")])
      : // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require where import() cannot load TypeScript (tsx/cjs)
        [require("../../azure/credentials") as typeof import("../../azure/credentials"), require("../../azure/network") as typeof import("../../azure/network")];
    return credentials.createCredential(armConnection, {
      clientOptions: identityClientOptions(network, host.userAgent),
      onToken: (token: string) => host.setSecret(token),
    });
  };
  let cached: { token: string; refreshAfter: number } | undefined;
  const authorization = async (): Promise<string> => {
    if (cached && Date.now() < cached.refreshAfter) return `Bearer ${cached.token}`;
    const credential = await (made ??= makeCredential());
    let token: AccessToken | null;
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
