import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  AzurePipelinesCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredentialOptions,
} from "@azure/identity";
import { ConnectionError } from "../errors";
import { AUTHORITY_BY_ENVIRONMENT, authorityHost } from "./authority";
import { IdentityHttpClient } from "./network";

export { authorityHost };

/** An Azure Resource Manager service connection, as the agent describes it. */
export interface ServiceConnection {
  id: string;
  /** The Resource Manager URL: ARM base and token audience. */
  url: string;
  /** ServicePrincipal, WorkloadIdentityFederation or ManagedServiceIdentity. */
  scheme: string;
  /** Authorization parameters (serviceprincipalid, tenantid, authenticationType, …). */
  auth: Record<string, string | undefined>;
  /** Connection data (environment, environmentAuthorityUrl, msiclientId, …). */
  data: Record<string, string | undefined>;
  /** System.AccessToken, for workload identity federation. */
  systemAccessToken?: string;
  /** System.OidcRequestUri, for workload identity federation. */
  oidcRequestUri?: string;
}

export interface CredentialOptions {
  /** Proxy and TLS settings, user agent: passed to every identity request. */
  clientOptions?: TokenCredentialOptions;
  /** Called with each new token the moment it exists, so it can be masked in the log. */
  onToken?: (token: string) => void;
}

const KNOWN_AUTHORITY_HOSTS = new Set(Object.values(AUTHORITY_BY_ENVIRONMENT).map((u) => new URL(u).host));

export function tokenScope(connection: ServiceConnection): string {
  return `${connection.url.replace(/\/+$/, "")}/.default`;
}

export function createCredential(connection: ServiceConnection, options: CredentialOptions = {}): TokenCredential {
  const host = authorityHost(connection);
  let hostName: string;
  try {
    hostName = new URL(host).host;
  } catch {
    throw new ConnectionError(`Service connection '${connection.id}': the authority URL '${host}' is not a valid URL`);
  }
  const common: TokenCredentialOptions & { disableInstanceDiscovery?: boolean } = {
    ...options.clientOptions,
    authorityHost: host,
    // Instance discovery asks the public cloud about the authority: wrong for Azure Stack or a private authority.
    disableInstanceDiscovery: !KNOWN_AUTHORITY_HOSTS.has(hostName),
  };
  const scheme = connection.scheme.toLowerCase();
  const credential = (() => {
    if (scheme === "managedserviceidentity") {
      const clientId = connection.data["msiclientId"];
      return clientId
        ? new ManagedIdentityCredential({ ...options.clientOptions, clientId })
        : new ManagedIdentityCredential({ ...options.clientOptions });
    }
    const tenantId = required(connection, "tenantid");
    const clientId = required(connection, "serviceprincipalid");
    if (scheme === "workloadidentityfederation") {
      if (!connection.systemAccessToken) {
        throw new ConnectionError(
          `Service connection '${connection.id}' uses workload identity federation, but System.AccessToken is not available to the task`,
        );
      }
      if (!connection.oidcRequestUri) {
        throw new ConnectionError(
          `Service connection '${connection.id}' uses workload identity federation, but System.OidcRequestUri is not set: run the task on an Azure Pipelines agent`,
        );
      }
      // The credential asks the OIDC endpoint for a fresh assertion every time it needs a new
      // ARM token, so a wait longer than the OIDC token's life keeps working.
      return new AzurePipelinesCredential(tenantId, clientId, connection.id, connection.systemAccessToken, common);
    }
    if (scheme === "serviceprincipal") {
      const type = (connection.auth["authenticationType"] ?? "spnKey").toLowerCase();
      if (type === "spncertificate") {
        const certificate = required(connection, "servicePrincipalCertificate");
        return new ClientCertificateCredential(tenantId, clientId, { certificate }, common);
      }
      const secret = required(connection, "serviceprincipalkey");
      return new ClientSecretCredential(tenantId, clientId, secret, common);
    }
    throw new ConnectionError(
      `Service connection '${connection.id}' uses the authentication scheme '${connection.scheme}', which this task does not support (supported: ServicePrincipal, WorkloadIdentityFederation, ManagedServiceIdentity)`,
    );
  })();
  const httpClient = options.clientOptions?.httpClient;
  const explained = httpClient instanceof IdentityHttpClient ? namingConnectionFailures(credential, httpClient) : credential;
  return options.onToken ? reportingTokens(explained, options.onToken) : explained;
}

/**
 * MSAL turns a failed connection (an untrusted certificate, say) into `endpoints_resolution_error`
 * and drops Node's message: put that message first, so the step says what went wrong.
 */
function namingConnectionFailures(inner: TokenCredential, httpClient: IdentityHttpClient): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      httpClient.lastFailure = undefined;
      try {
        return await inner.getToken(scopes, options);
      } catch (error) {
        // Set by the requests getToken made (TypeScript cannot see that across the await).
        const failure = httpClient.lastFailure as IdentityHttpClient["lastFailure"];
        if (!failure || (error instanceof Error && error.message.includes(failure.message))) throw error;
        const first = (error instanceof Error ? error.message : String(error)).split(/\r?\n/)[0];
        throw new Error(`the connection to ${failure.host} failed: ${failure.message}; ${first}`, { cause: error });
      }
    },
  };
}

function required(connection: ServiceConnection, key: string): string {
  const value = connection.auth[key];
  if (!value) throw new ConnectionError(`Service connection '${connection.id}' has no '${key}' parameter`);
  return value;
}

function reportingTokens(inner: TokenCredential, onToken: (token: string) => void): TokenCredential {
  let last: string | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const token = await inner.getToken(scopes, options);
      if (token && token.token !== last) {
        last = token.token;
        onToken(token.token);
      }
      return token;
    },
  };
}
