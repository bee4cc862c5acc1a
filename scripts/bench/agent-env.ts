/**
 * The environment the Azure Pipelines agent gives a task step, for a service connection that
 * points at an emulator: inputs as INPUT_*, the connection as ENDPOINT_*, the emulator's CA.
 * The bundled tasks and the baseline read the very same variables.
 */
import type { Emulator } from "../../emulator/index";

export const CONNECTION_ID = "5f0b2a6e-3c61-4b1f-9a43-2d1c7e8f9a10";

export function agentEnv(emulator: Emulator, inputs: Record<string, string>, tempDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? tempDir,
    AGENT_TEMPDIRECTORY: tempDir,
    AGENT_WORKFOLDER: tempDir,
    SYSTEM_DEFAULTWORKINGDIRECTORY: tempDir,
    AGENT_VERSION: "4.255.0",
    SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: "https://dev.azure.com/contoso/",
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
  };
  const all: Record<string, string> = {
    azureSubscription: CONNECTION_ID,
    resourceGroupName: emulator.resourceGroup,
    clusterPoolName: emulator.clusterPool,
    clusterName: emulator.cluster,
    ...inputs,
  };
  for (const [name, value] of Object.entries(all)) env[`INPUT_${name.replace(/[.\s]/g, "_").toUpperCase()}`] = value;
  const parameters = {
    authenticationType: "spnKey",
    serviceprincipalid: emulator.servicePrincipal.clientId,
    serviceprincipalkey: emulator.servicePrincipal.clientSecret,
    tenantid: emulator.tenantId,
  };
  const data = {
    subscriptionId: emulator.subscriptionId,
    subscriptionName: "Emulated subscription",
    environment: "AzureCloud",
    environmentAuthorityUrl: emulator.authorityHost.replace(/\/?$/, "/"),
    scopeLevel: "Subscription",
  };
  const id = CONNECTION_ID;
  env[`ENDPOINT_URL_${id}`] = `${emulator.url}/`;
  env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ parameters, scheme: "ServicePrincipal" });
  env[`ENDPOINT_AUTH_SCHEME_${id}`] = "ServicePrincipal";
  for (const [key, value] of Object.entries(parameters)) env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
  env[`ENDPOINT_DATA_${id}`] = JSON.stringify(data);
  for (const [key, value] of Object.entries(data)) env[`ENDPOINT_DATA_${id}_${key.toUpperCase()}`] = value;
  return env;
}
