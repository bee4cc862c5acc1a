/**
 * The ApacheFlink service connection read and checked: its URL, how the tasks authenticate (None,
 * Basic, Token, Client certificate, or an Entra ID token from an Azure Resource Manager
 * connection), the CA that signs the cluster's certificate, and the messages that tell a user what
 * to fix when the gateway or Flink refuses us. No network call here.
 */
import { ConnectionError, InputError } from "../../errors";
import type { EndpointConnection } from "../../pipeline/host";

export type AccessScheme = "None" | "Basic" | "Token" | "Client certificate" | "Entra ID";

/** Who we are to the cluster, for messages: the connection and its scheme. */
export interface FlinkAccess {
  connectionId: string;
  scheme: AccessScheme;
  /** Entra ID: the Azure Resource Manager connection the token comes from, and the token's scope. */
  entra?: { connectionId: string; scope: string; input: string; scopeInput: string };
}

export interface FlinkEndpoint {
  /** The REST URL without a trailing slash; a path prefix is kept. */
  baseUrl: string;
  basicAuth?: { username: string; password: string };
  /** The Token scheme's bearer token. */
  bearerToken?: string;
  /** The Client certificate scheme: certificate chain and private key, PEM. */
  clientCertificate?: { cert: string; key: string };
  /** The connection's CA certificate(s), PEM, trusted beside Node's roots and Agent.CAInfo. */
  caCertificates: string[];
  access: FlinkAccess;
}

/** The Entra ID inputs of a task, when it takes its token from an Azure Resource Manager connection. */
export interface EntraTokenInputs {
  connectionInput: string;
  connectionId: string;
  scopeInput: string;
  /** The token scope, `<application ID URI or client id>/.default`. */
  scope: string;
}

/** Said beside a connection's id: what a reader can do with it. */
export const ID_NOTE = "(The agent gives a task the service connection's id, not its name: Project settings → Service connections lists both.)";

/**
 * Paths of Flink's REST API that a URL copied from a browser or a curl line may end with. Not
 * refused up front (a gateway may use such a prefix): named when the cluster then answers oddly.
 */
const REST_PATH = /\/(?:v1\/)?(jobs(?:\/overview)?|overview|config|jars|taskmanagers|jobmanager(?:\/config)?|cluster)\/?$/i;

/** The REST path the connection's URL ends with, and the URL without it; undefined when it ends otherwise. */
export function restPathOf(baseUrl: string): { path: string; base: string } | undefined {
  const url = new URL(baseUrl);
  const match = REST_PATH.exec(url.pathname);
  if (!match) return undefined;
  url.pathname = url.pathname.slice(0, match.index) || "/";
  return { path: match[0].replace(/\/$/, ""), base: url.toString().replace(/\/+$/, "") };
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A service connection as a reader finds it, as a (label, value) row. The agent gives a task the
 * connection's id (a GUID), never its name: the label says so and where the name is.
 */
export function connectionLabel(access: FlinkAccess): [string, string] {
  return ["Service connection id (its name: Project settings → Service connections)", `${access.connectionId} (${access.scheme}${access.entra ? ` token from '${access.entra.connectionId}'` : ""})`];
}

/** A URL on this machine: reached directly, never through the agent's proxy (which could read or log it). */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Credentials over plain http are tolerated only on this machine, or on a network the connection
 * trusts: never through a proxy, which would carry them in clear text whatever the connection says.
 */
export function refuseCredentialsThroughProxy(endpoint: FlinkEndpoint, input: string, connectionId: string, proxyUrl: string | undefined): void {
  if (!proxyUrl || endpoint.access.scheme === "None" || !endpoint.baseUrl.startsWith("http:")) return;
  const proxy = new URL(proxyUrl);
  throw new ConnectionError(
    `Input '${input}': the service connection '${connectionId}' would send its ${endpoint.access.scheme === "Entra ID" ? "Entra ID token" : "credentials"} over plain http:// through the agent's proxy ${proxy.protocol}//${proxy.host}, which would carry them in clear text. Use an https:// URL, or add the host to the agent's proxy bypass list`,
  );
}

/** The connection's URL and credentials, checked before any call. */
export function restEndpoint(connection: EndpointConnection, input: string, entra?: EntraTokenInputs): FlinkEndpoint {
  const named = `Input '${input}': the service connection '${connection.id}'`;
  let url: URL;
  try {
    url = new URL(connection.url.trim());
  } catch {
    throw new ConnectionError(`${named} has no valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConnectionError(`${named} URL must start with http:// or https://, not ${url.protocol}//`);
  }
  if (/^#\/?[a-z]/i.test(url.hash)) {
    throw new ConnectionError(
      `${named} URL ${url.toString()} is the address of a page of Flink's web UI (${url.hash}); the connection takes the JobManager's REST URL, which is the same address without '${url.hash}': ${url.toString().slice(0, -url.hash.length).replace(/\/+$/, "")}. ${ID_NOTE}`,
    );
  }
  if (url.search || url.hash) throw new ConnectionError(`${named} URL must not carry a query or fragment`);
  if (url.username || url.password) throw new ConnectionError(`${named} URL carries a user name or password: use the Basic scheme instead`);
  const baseUrl = url.toString().replace(/\/+$/, "");
  const data = lowerKeys(connection.data ?? {});
  const parameters = lowerKeys(connection.parameters);
  const endpoint: FlinkEndpoint = { baseUrl, caCertificates: caCertificates(named, data.get("cacertificate") ?? ""), access: { connectionId: connection.id, scheme: "None" } };

  const scheme = connection.scheme.toLowerCase();
  if (scheme === "usernamepassword") {
    const username = parameters.get("username") ?? "";
    if (!username) throw new ConnectionError(`${named} uses Basic authentication but has no user name`);
    endpoint.basicAuth = { username, password: parameters.get("password") ?? "" };
    endpoint.access.scheme = "Basic";
  } else if (scheme === "token") {
    const token = (parameters.get("apitoken") ?? "").trim();
    if (!token) throw new ConnectionError(`${named} uses Token authentication but has no token: paste the gateway's bearer token into the connection`);
    if (/\s/.test(token)) throw new ConnectionError(`${named} has a token with white space in it: paste the token alone, without 'Bearer '`);
    endpoint.bearerToken = token;
    endpoint.access.scheme = "Token";
  } else if (scheme === "certificate") {
    endpoint.clientCertificate = clientCertificate(named, parameters.get("certificate") ?? "");
    endpoint.access.scheme = "Client certificate";
    if (url.protocol !== "https:") throw new ConnectionError(`${named} uses a client certificate, which needs an https:// URL (Flink's REST SSL), not ${url.protocol}//`);
  } else if (scheme !== "none") {
    throw new ConnectionError(`${named} uses the authentication scheme '${connection.scheme}'; an Apache Flink connection takes None, UsernamePassword (Basic), Token or Certificate`);
  }

  if (entra) {
    if (endpoint.basicAuth || endpoint.bearerToken) {
      throw new ConnectionError(
        `${named} uses ${endpoint.access.scheme} authentication, and '${entra.connectionInput}' asks for an Entra ID token as well: a request carries one Authorization header. Use a connection with None (or Client certificate) beside '${entra.connectionInput}', or clear '${entra.connectionInput}'`,
      );
    }
    endpoint.access.entra = { connectionId: entra.connectionId, scope: entra.scope, input: entra.connectionInput, scopeInput: entra.scopeInput };
    if (!endpoint.clientCertificate) endpoint.access.scheme = "Entra ID";
  }

  // Credentials in clear text only where nobody else can read them, or where the connection says so.
  const sendsCredentials = endpoint.access.scheme !== "None";
  if (sendsCredentials && url.protocol === "http:" && !LOOPBACK.test(url.hostname) && !truthy(data.get("allowinsecurehttp"))) {
    throw new ConnectionError(
      `${named} would send its ${endpoint.access.scheme === "Entra ID" ? "Entra ID token" : "credentials"} over plain http:// to ${url.host}, where anyone on the way can read them. Use an https:// URL, or, on a network you trust, set 'Allow credentials over http' (allowInsecureHttp) on the connection`,
    );
  }
  return endpoint;
}

function lowerKeys(values: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
}

function truthy(value: string | undefined): boolean {
  return /^(true|1|yes)$/i.test((value ?? "").trim());
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

function caCertificates(named: string, text: string): string[] {
  if (!text.trim()) return [];
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const certs = blocks.filter((b) => b[1] === "CERTIFICATE").map((b) => `${b[0]}\n`);
  if (certs.length === 0) throw new ConnectionError(`${named} has a CA certificate that holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return certs;
}

/** The certificate chain and its private key, both PEM, from the one field the Certificate scheme has. */
function clientCertificate(named: string, text: string): { cert: string; key: string } {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const cert = blocks.filter((b) => b[1] === "CERTIFICATE").map((b) => `${b[0]}\n`).join("");
  const keys = blocks.filter((b) => /PRIVATE KEY$/.test(b[1]!));
  if (!cert) throw new ConnectionError(`${named} uses a client certificate but holds no PEM certificate: paste the certificate (-----BEGIN CERTIFICATE-----) and its private key`);
  if (keys.length === 0) throw new ConnectionError(`${named} holds a client certificate without its private key: paste the key (-----BEGIN PRIVATE KEY-----) below the certificate`);
  if (keys[0]![1] === "ENCRYPTED PRIVATE KEY") throw new ConnectionError(`${named} holds an encrypted private key: paste it unencrypted (openssl pkey -in key.pem -out plain.pem)`);
  return { cert, key: `${keys[0]![0]}\n` };
}

/** The scope an Entra ID token is asked for: an application ID URI, a client id, or a scope as given. */
export function entraScope(input: string, value: string): string {
  const text = value.trim();
  if (/\s/.test(text)) throw new InputError(input, `${JSON.stringify(text)} contains white space; give one application ID URI such as api://flink-gateway`);
  if (/\/\.default$/.test(text)) return text;
  if (/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(text) || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text)) return `${text.replace(/\/+$/, "")}/.default`;
  throw new InputError(input, `${JSON.stringify(text)} is not an application ID URI (api://flink-gateway), a client id or a scope ending in /.default`);
}

/** What a refusal means for this connection, and what to change. */
export type AccessProblem =
  | { kind: "status"; status: 401 | 403; challenge: string }
  | { kind: "loginPage"; where: string }
  | { kind: "otherHost"; location: string }
  | { kind: "serverCertificate"; code: string }
  | { kind: "clientCertificate"; detail: string }
  /** A TLS handshake answered in plain HTTP ("wrong version number"): an https:// URL for an http cluster. */
  | { kind: "plainHttp" }
  /** The URL ends with a path of the REST API, so every call went below it. */
  | { kind: "restPath"; path: string; base: string; said: string };

export function accessMessage(access: FlinkAccess, url: string, problem: AccessProblem): string {
  const conn = `Service connection '${access.connectionId}' (${access.scheme}${access.entra ? ` token from '${access.entra.connectionId}'` : ""})`;
  switch (problem.kind) {
    case "status": {
      const said = challengeText(problem.challenge);
      const wants = /^\s*basic/i.test(problem.challenge) ? "Basic" : /^\s*bearer/i.test(problem.challenge) ? "Bearer" : "";
      if (problem.status === 403) {
        return `${conn}: the gateway in front of Flink at ${url} denied access (403${said}). It knows who we are but does not let us in: ${
          access.entra ? `grant the identity of '${access.entra.connectionId}' the gateway's app role` : "give this identity access at the gateway"
        }.`;
      }
      const fix = (() => {
        switch (access.scheme) {
          case "None":
            return wants === "Basic"
              ? "it asks for a user name and password: choose the Basic scheme on the connection"
              : wants === "Bearer"
                ? `it asks for a bearer token: choose the Token scheme, or give an Entra ID token with the task's entraIdConnection and entraIdScope inputs`
                : "it asks for credentials: choose the scheme the gateway expects on the connection";
          case "Basic":
            return "it refused the user name and password: check them in the connection (a wrong password gives this)";
          case "Token":
            return /expired/i.test(said) ? "the token has expired: put a new one in the connection" : "it refused the token: check it in the connection, or put a new one (it may have expired)";
          case "Entra ID":
            return /expired/i.test(said)
              ? "the Entra ID token has expired for the gateway: check the clocks of the agent and the gateway"
              : `it refused the Entra ID token for '${access.entra!.scope}': check '${access.entra!.scopeInput}' is the gateway's application ID URI, and the tenant of '${access.entra!.connectionId}'`;
          case "Client certificate":
            return "it asks for credentials besides the client certificate: give an Entra ID token, or use the scheme the gateway expects";
        }
      })();
      return `${conn}: the gateway in front of Flink at ${url} answered 401 (authentication required${said}); ${fix}.`;
    }
    case "loginPage":
      return `${conn}: ${url} answered with a sign-in page for people (${problem.where}), not Flink's API. A pipeline cannot sign in in a browser: have the gateway accept a bearer token or basic credentials for the API, and choose that scheme on the connection.`;
    case "otherHost":
      return `${conn}: ${url} redirected to another host (${problem.location}). The tasks never send the connection's credentials to another host: if Flink lives there, put that URL in the connection.`;
    case "serverCertificate":
      return `${conn}: the certificate of ${url} is not trusted (${problem.code}). Put the PEM of the CA that signed it in the connection's CA certificate, or in the agent's CA file (Agent.CAInfo).`;
    case "plainHttp":
      return `${conn}: ${url} answered the TLS handshake in plain HTTP (OpenSSL: "wrong version number"): the cluster serves http, not https. Change the connection's URL to ${url.replace(/^https:/, "http:").replace(/\/+$/, "")}, or enable Flink's REST SSL (security.ssl.rest.enabled) or put a TLS gateway in front. ${ID_NOTE}`;
    case "restPath":
      return `${conn}: its URL ${url} ends with '${problem.path}', a path of Flink's REST API, so the tasks' calls went below it and Flink answered: ${problem.said}. Put the JobManager's base URL in the connection: ${problem.base} (the tasks add the API's paths). ${ID_NOTE}`;
    case "clientCertificate":
      return access.scheme === "Client certificate"
        ? `${conn}: Flink at ${url} refused the connection's client certificate in the TLS handshake (${problem.detail}): it must be signed by a CA in Flink's REST truststore (security.ssl.rest.truststore), and the key must belong to it.`
        : `${conn}: Flink at ${url} asks for a client certificate (mutual TLS, ${problem.detail}): choose the Client certificate scheme and paste the certificate and its key.`;
  }
}

/** The error and its description from a WWW-Authenticate challenge, never the token. */
function challengeText(challenge: string): string {
  const error = /error="([^"]*)"/.exec(challenge)?.[1];
  const description = /error_description="([^"]*)"/.exec(challenge)?.[1];
  return [error, description].filter(Boolean).map((t) => `: ${t}`).join("");
}
