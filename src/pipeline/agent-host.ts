import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tl from "azure-pipelines-task-lib/task";
import type { ServiceConnection } from "../azure/credentials";
import type { NetworkSettings, ProxySettings } from "../azure/network";
import { ConnectionError } from "../errors";
import type { Logger } from "../util/logger";
import type { EndpointConnection, PipelineHost } from "./host";

const AUTH_KEYS = ["serviceprincipalid", "serviceprincipalkey", "tenantid", "authenticationType", "servicePrincipalCertificate"];
const DATA_KEYS = [
  "subscriptionId",
  "subscriptionName",
  "environment",
  "environmentAuthorityUrl",
  "activeDirectoryAuthority",
  "activeDirectoryServiceEndpointResourceId",
  "msiclientId",
  "scopeLevel",
];

/**
 * The one place that talks to the agent (through task-lib). Everything printed here goes through
 * task-lib's escaped commands or its external-output filter, never console.log: any message may
 * carry text from the service or the user, and a raw `##vso[` in it would be executed.
 */
export class AgentHost implements PipelineHost {
  readonly logger: Logger = {
    info: (message) => tl.writeExternalOutput(`${message}\n`, { source: "remote" }),
    warning: (message) => tl.warning(message),
    debug: (message) => tl.debug(message),
  };

  constructor(readonly userAgent: string) {}

  input(name: string): string | undefined {
    return tl.getInput(name, false);
  }

  serviceConnection(inputName: string): ServiceConnection {
    const id = (tl.getInput(inputName, false) ?? "").trim();
    if (!id) throw new ConnectionError(`Input '${inputName}': choose an Azure Resource Manager service connection`);
    const url = tl.getEndpointUrl(id, true);
    const scheme = tl.getEndpointAuthorizationScheme(id, true);
    if (!url || !scheme) {
      throw new ConnectionError(`Input '${inputName}': the service connection '${id}' was not found, or this pipeline is not authorized to use it`);
    }
    // getEndpointAuthorization, not getEndpointAuthorizationParameter: the latter prints each
    // value, secrets included, to the debug log.
    const auth = caseInsensitive(tl.getEndpointAuthorization(id, true)?.parameters ?? {}, AUTH_KEYS);
    const data: Record<string, string | undefined> = {};
    for (const key of DATA_KEYS) data[key] = tl.getEndpointDataParameter(id, key, true);
    if (auth["serviceprincipalkey"]) tl.setSecret(auth["serviceprincipalkey"]);
    // The agent masks one line at a time: register each line of the PEM's base64 body.
    for (const line of (auth["servicePrincipalCertificate"] ?? "").split(/\r?\n/)) {
      if (line.trim().length >= 16 && !line.startsWith("-----")) tl.setSecret(line.trim());
    }
    const connection: ServiceConnection = { id, url, scheme, auth, data };
    if (scheme.toLowerCase() === "workloadidentityfederation") {
      const system = caseInsensitive(tl.getEndpointAuthorization("SystemVssConnection", true)?.parameters ?? {}, ["AccessToken"]);
      if (system["AccessToken"]) {
        tl.setSecret(system["AccessToken"]);
        connection.systemAccessToken = system["AccessToken"];
      }
      connection.oidcRequestUri = tl.getVariable("System.OidcRequestUri");
    }
    return connection;
  }

  endpoint(inputName: string, dataKeys: string[] = []): EndpointConnection {
    const id = (tl.getInput(inputName, false) ?? "").trim();
    if (!id) throw new ConnectionError(`Input '${inputName}': choose a service connection`);
    const url = tl.getEndpointUrl(id, true);
    const scheme = tl.getEndpointAuthorizationScheme(id, true);
    if (!url || !scheme) {
      throw new ConnectionError(`Input '${inputName}': the service connection '${id}' was not found, or this pipeline is not authorized to use it`);
    }
    // getEndpointAuthorization, not getEndpointAuthorizationParameter, which prints each value to the debug log.
    const parameters = { ...(tl.getEndpointAuthorization(id, true)?.parameters ?? {}) };
    // Every parameter but the user name is a secret (password, token, certificate and key). The
    // agent masks one line at a time: a PEM is registered line by line, its armour lines aside.
    for (const [key, value] of Object.entries(parameters)) {
      if (!value || key.toLowerCase() === "username") continue;
      const lines = value.split(/\r?\n/).map((l) => l.trim());
      if (lines.length === 1) tl.setSecret(value);
      else for (const line of lines) if (line.length >= 16 && !line.startsWith("-----")) tl.setSecret(line);
    }
    const data: Record<string, string> = {};
    for (const key of dataKeys) {
      const value = tl.getEndpointDataParameter(id, key, true);
      if (value) data[key] = value;
    }
    return { id, url, scheme, parameters, data };
  }

  workingDirectory(): string {
    return tl.getVariable("System.DefaultWorkingDirectory") || process.cwd();
  }

  network(armUrl: string, authorityUrl: string): NetworkSettings {
    const settings: NetworkSettings = {};
    const arm = proxyFor(armUrl);
    if (arm) settings.armProxy = arm;
    // Each identity request (Entra ID, the OIDC endpoint, managed identity) follows the bypass
    // list for its own URL; decided once per address (the authority's now, so its proxy password
    // is masked before anything runs).
    const decided = new Map<string, ProxySettings | undefined>();
    const decide = (url: string) => {
      const key = url.split("?")[0]!.toLowerCase();
      if (!decided.has(key)) decided.set(key, proxyFor(url));
      return decided.get(key);
    };
    decide(authorityUrl);
    settings.identityProxyFor = decide;
    const certs = tl.getHttpCertConfiguration();
    if (certs?.caFile) {
      try {
        settings.caCertificates = [fs.readFileSync(certs.caFile, "utf8")];
      } catch (error) {
        tl.warning(`Could not read the agent's CA certificate file ${certs.caFile}: ${(error as Error).message}`);
      }
    }
    return settings;
  }

  setSecret(value: string): void {
    tl.setSecret(value);
  }

  setOutput(name: string, value: string): void {
    tl.setVariable(name, value, false, true);
  }

  uploadSummary(title: string, markdown: string): void {
    const dir = tl.getVariable("Agent.TempDirectory") || os.tmpdir();
    const file = path.join(dir, `${title.replace(/[^\w.-]+/g, "_")}-${process.pid}-${Date.now()}.md`);
    fs.writeFileSync(file, markdown, "utf8");
    // A summary attachment with a name: the run's Extensions tab titles the section with it
    // (uploadsummary would show the file's name). The agent refuses names not valid as file names.
    tl.addAttachment("Distributedtask.Core.Summary", title.replace(/[^\w .()-]+/g, " ").trim().slice(0, 100), file);
  }

  fail(message: string): void {
    tl.setResult(tl.TaskResult.Failed, message);
  }

  succeed(message: string): void {
    tl.setResult(tl.TaskResult.Succeeded, message);
  }
}

/** The agent's parameter names vary in case between connection types. */
function caseInsensitive(parameters: Record<string, string>, keys: string[]): Record<string, string | undefined> {
  const lower = new Map(Object.entries(parameters).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.fromEntries(keys.map((k) => [k, lower.get(k.toLowerCase())]));
}

function proxyFor(url: string): ProxySettings | undefined {
  let config: tl.ProxyConfiguration | null = null;
  try {
    config = tl.getHttpProxyConfiguration(url);
  } catch {
    return undefined;
  }
  if (!config?.proxyUrl) return undefined;
  if (config.proxyPassword) tl.setSecret(config.proxyPassword);
  return {
    url: config.proxyUrl,
    ...(config.proxyUsername ? { username: config.proxyUsername, password: config.proxyPassword ?? "" } : {}),
  };
}
