/**
 * Which Entra ID authority a Resource Manager connection signs in at. Apart from credentials.ts so
 * that a caller can ask it without loading the identity library.
 */
import type { ServiceConnection } from "./credentials";

export const AUTHORITY_BY_ENVIRONMENT: Record<string, string> = {
  azurecloud: "https://login.microsoftonline.com",
  azurechinacloud: "https://login.chinacloudapi.cn",
  azureusgovernment: "https://login.microsoftonline.us",
  azuregermancloud: "https://login.microsoftonline.de",
};

/** The Entra authority of the connection: its own data first (sovereign clouds, Azure Stack). */
export function authorityHost(connection: ServiceConnection): string {
  const fromData = connection.data["environmentAuthorityUrl"] || connection.data["activeDirectoryAuthority"];
  if (fromData) return fromData;
  return AUTHORITY_BY_ENVIRONMENT[(connection.data["environment"] ?? "AzureCloud").toLowerCase()] ?? AUTHORITY_BY_ENVIRONMENT["azurecloud"]!;
}
