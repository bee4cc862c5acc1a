/** Service connections (as the agent hands them to a task) that point at a running emulator. */
import type { Emulator } from "../../emulator/index";
import { emulatorConnection } from "../../pipeline-runner/connection";
import { type ConnectionEnv, runTask, type RunTaskOptions } from "./agent";

export type Scheme = "spnKey" | "spnCertificate" | "workloadIdentity" | "managedIdentity";
export const SCHEMES: Scheme[] = ["spnKey", "spnCertificate", "workloadIdentity", "managedIdentity"];

/** The agent-side part of a task run: connection, variables and environment for one scheme. */
export function connectionFor(emulator: Emulator, scheme: Scheme): Pick<RunTaskOptions, "connection" | "variables" | "systemAccessToken" | "env"> {
  // The service principal with a secret is the pipeline runner's own emulator connection;
  // the other schemes vary its identity.
  const { connection: spn, env } = emulatorConnection(emulator);
  const base = { url: spn.url, data: spn.data, tenantid: emulator.tenantId };
  switch (scheme) {
    case "spnKey":
      return { env, connection: spn };
    case "spnCertificate":
      return {
        env,
        connection: {
          ...spn,
          parameters: {
            authenticationType: "spnCertificate",
            serviceprincipalid: emulator.servicePrincipal.clientId,
            servicePrincipalCertificate: emulator.servicePrincipal.certificatePem,
            tenantid: base.tenantid,
          },
        },
      };
    case "workloadIdentity":
      return {
        env,
        variables: { "System.OidcRequestUri": emulator.workloadIdentity.oidcRequestUri },
        systemAccessToken: emulator.workloadIdentity.systemAccessToken,
        connection: {
          id: emulator.workloadIdentity.serviceConnectionId,
          url: base.url,
          data: base.data,
          scheme: "WorkloadIdentityFederation",
          parameters: {
            serviceprincipalid: emulator.workloadIdentity.clientId,
            tenantid: base.tenantid,
            workloadIdentityFederationIssuer: emulator.workloadIdentity.issuer,
            workloadIdentityFederationSubject: emulator.workloadIdentity.subject,
          },
        },
      };
    case "managedIdentity":
      return {
        env: { ...env, ...emulator.managedIdentity.env },
        connection: { ...spn, scheme: "ManagedServiceIdentity", parameters: { tenantid: base.tenantid }, data: { ...base.data, msiclientId: emulator.managedIdentity.clientId } },
      };
  }
}

/** Every secret a run could leak: the log must contain none of them. */
export function secretsOf(emulator: Emulator): string[] {
  const pem = emulator.servicePrincipal.certificatePem;
  const keyBody = /-----BEGIN [A-Z ]*PRIVATE KEY-----\s*([\s\S]*?)-----END/.exec(pem)?.[1]?.replace(/\s+/g, "") ?? "";
  return [emulator.servicePrincipal.clientSecret, emulator.workloadIdentity.systemAccessToken, keyBody.slice(0, 64)].filter(Boolean);
}

export function clusterInputs(emulator: Emulator): Record<string, string> {
  return { resourceGroupName: emulator.resourceGroup, clusterPoolName: emulator.clusterPool, clusterName: emulator.cluster };
}

export type { ConnectionEnv };

export interface EmulatorRunOptions {
  scheme?: Scheme;
  debug?: boolean;
  env?: Record<string, string>;
  /** Pipeline variables over the scheme's own (System.OidcRequestUri, …). */
  variables?: Record<string, string>;
  signal?: RunTaskOptions["signal"];
  timeoutMs?: number;
}

/** Runs a bundled task against the emulator with the cluster inputs filled in. */
export function runOnEmulator(emulator: Emulator, task: string, inputs: Record<string, string>, options: EmulatorRunOptions = {}) {
  const agent = connectionFor(emulator, options.scheme ?? "spnKey");
  return runTask({
    task,
    ...agent,
    env: { ...agent.env, ...options.env },
    variables: { ...agent.variables, ...options.variables, ...(options.debug ? { "System.Debug": "true" } : {}) },
    inputs: { ...clusterInputs(emulator), ...inputs },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}
