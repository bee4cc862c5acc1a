/**
 * The Flink REST backend: any Apache Flink session cluster (1.15+; tested on 1.20 and 2.x),
 * reached through its JobManager's REST API with an `ApacheFlink` service connection.
 */
import { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { armHttpsAgent } from "../../azure/network";
import { ConnectionError } from "../../errors";
import type { Backend, BackendModule, CommonInputs } from "../../jobs/backend";
import type { EndpointConnection, PipelineHost } from "../../pipeline/host";
import { FlinkRestActions } from "./actions";
import { FlinkApi } from "./api";
import { FlinkRestClient } from "./client";
import { flinkRestDeploy } from "./deploy";
import { type FlinkRestInputs, validateFlinkRestInputs } from "./inputs";

export type { FlinkRestInputs } from "./inputs";

export const flinkRestBackend: BackendModule<FlinkRestInputs> = {
  target: "flinkRest",
  deploys: true,
  validate: validateFlinkRestInputs,
  connect(host: PipelineHost, _common: CommonInputs, inputs: FlinkRestInputs): Backend<FlinkRestInputs> {
    const connection = host.endpoint(inputs.connectionInput);
    const { baseUrl, basicAuth } = restEndpoint(connection, inputs.connectionInput);
    // The agent's proxy (with its bypass list) and CA for this URL, as for Resource Manager calls.
    const network = host.network(baseUrl, baseUrl);
    const agent: HttpsAgent | HttpAgent = baseUrl.startsWith("https:") || network.armProxy ? armHttpsAgent(network)! : new HttpAgent({ keepAlive: true });
    const client = new FlinkRestClient({ baseUrl, ...(basicAuth ? { basicAuth } : {}), agent, userAgent: host.userAgent, logger: host.logger });
    const api = new FlinkApi(client);
    const context = { api, workingDirectory: host.workingDirectory(), where: client.urlOf("/") };
    return {
      target: "flinkRest",
      describe: () => [
        ["Flink REST", context.where],
        ["Service connection", connection.id],
      ],
      act: (request, options) => new FlinkRestActions(context, options, request.jobName).act(request),
      readStatus: (query, options) => new FlinkRestActions(context, options, query.jobName).readStatus(query.waitForStatus),
      deploy: (request, options) => flinkRestDeploy(context, request, options),
      close: () => agent.destroy(),
    };
  },
};

/** The connection's URL and credentials, checked: http(s), scheme None or UsernamePassword. */
export function restEndpoint(connection: EndpointConnection, input: string): { baseUrl: string; basicAuth?: { username: string; password: string } } {
  let url: URL;
  try {
    url = new URL(connection.url.trim());
  } catch {
    throw new ConnectionError(`Input '${input}': the service connection '${connection.id}' has no valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConnectionError(`Input '${input}': the service connection '${connection.id}' URL must start with http:// or https://, not ${url.protocol}//`);
  }
  if (url.search || url.hash) throw new ConnectionError(`Input '${input}': the service connection '${connection.id}' URL must not carry a query or fragment`);
  const baseUrl = url.toString().replace(/\/+$/, "");
  const scheme = connection.scheme.toLowerCase();
  if (scheme === "none") return { baseUrl };
  if (scheme === "usernamepassword") {
    const lower = new Map(Object.entries(connection.parameters).map(([k, v]) => [k.toLowerCase(), v]));
    const username = lower.get("username") ?? "";
    if (!username) throw new ConnectionError(`Input '${input}': the service connection '${connection.id}' uses Basic authentication but has no user name`);
    return { baseUrl, basicAuth: { username, password: lower.get("password") ?? "" } };
  }
  throw new ConnectionError(
    `Input '${input}': the service connection '${connection.id}' uses the authentication scheme '${connection.scheme}'; an Apache Flink connection takes None or UsernamePassword (Basic)`,
  );
}
