/**
 * The one service connection every `azureSubscription` name maps to in a local run: the embedded
 * emulator's service principal, or a real ARM endpoint given on the command line.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Emulator } from "../emulator/index";
import type { ConnectionEnv } from "./agent-process";
import { sampleJarSource } from "./sample-jar";

export interface RunnerConnection {
  /** The Azure Resource Manager connection every `azureSubscription` maps to; none when every step targets Flink. */
  connection?: ConnectionEnv;
  /** Environment the task processes need (NODE_EXTRA_CA_CERTS). */
  env: Record<string, string>;
  /** Values that must never appear in the log. */
  secrets: string[];
  /** Where it points, for the log header. */
  description: string;
  /** The ApacheFlink service connection every `flinkConnection` name maps to (steps with `target: flinkRest`). */
  flink?: FlinkRunnerConnection;
}

export interface FlinkRunnerConnection {
  connection: ConnectionEnv;
  description: string;
  /** The sample job a `jarFile` that matches nothing is given (pipeline-runner/sample-jar.ts). */
  sampleJar?: () => Promise<{ jar: string; version: string }>;
}

const EMULATOR_CONNECTION_ID = "5f0b2a6e-3c61-4b1f-9a43-2d1c7e8f9a10";

/** What a connection to an emulator needs: an embedded one, or one `npm run emulator` runs (its /_emulator/info). */
export type EmulatorEndpoint = Pick<Emulator, "url" | "armUrl" | "authorityHost" | "caCertPath" | "tenantId" | "subscriptionId"> & {
  servicePrincipal: Pick<Emulator["servicePrincipal"], "clientId" | "clientSecret">;
};

export function emulatorConnection(emulator: EmulatorEndpoint, description = `the embedded emulator at ${emulator.url}`): RunnerConnection & { connection: ConnectionEnv } {
  return {
    connection: {
      id: EMULATOR_CONNECTION_ID,
      url: `${emulator.armUrl}/`,
      scheme: "ServicePrincipal",
      parameters: {
        authenticationType: "spnKey",
        serviceprincipalid: emulator.servicePrincipal.clientId,
        serviceprincipalkey: emulator.servicePrincipal.clientSecret,
        tenantid: emulator.tenantId,
      },
      data: {
        subscriptionId: emulator.subscriptionId,
        subscriptionName: "Emulated subscription",
        environment: "AzureCloud",
        environmentAuthorityUrl: emulator.authorityHost.replace(/\/?$/, "/"),
        scopeLevel: "Subscription",
      },
    },
    env: { NODE_EXTRA_CA_CERTS: emulator.caCertPath },
    secrets: [emulator.servicePrincipal.clientSecret],
    description,
  };
}

export interface ArmConnectionOptions {
  armUrl: string;
  tenantId: string;
  clientId: string;
  /** The secret itself, read by the caller from the environment variable the user named. */
  clientSecret: string;
  subscriptionId: string;
  authorityHost?: string;
  caFile?: string;
}

export function armConnection(options: ArmConnectionOptions): RunnerConnection & { connection: ConnectionEnv } {
  const url = new URL(options.armUrl);
  if (url.protocol !== "https:") throw new Error(`--arm-url must be an https URL, got '${options.armUrl}'`);
  if (options.caFile && !fs.existsSync(options.caFile)) throw new Error(`--ca-file: no such file '${options.caFile}'`);
  // The tasks run in a temporary folder: a relative path would point nowhere there.
  const caFile = options.caFile ? path.resolve(options.caFile) : undefined;
  const authority = options.authorityHost ? new URL(options.authorityHost).toString() : "https://login.microsoftonline.com/";
  return {
    connection: {
      id: randomUUID(),
      url: options.armUrl.replace(/\/?$/, "/"),
      scheme: "ServicePrincipal",
      parameters: {
        authenticationType: "spnKey",
        serviceprincipalid: options.clientId,
        serviceprincipalkey: options.clientSecret,
        tenantid: options.tenantId,
      },
      data: {
        subscriptionId: options.subscriptionId,
        subscriptionName: options.subscriptionId,
        environment: "AzureCloud",
        environmentAuthorityUrl: authority,
        scopeLevel: "Subscription",
      },
    },
    env: caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {},
    secrets: [options.clientSecret],
    description: `${options.armUrl} as client ${options.clientId}`,
  };
}

const FLINK_CONNECTION_ID = "8c2d7e41-6b0a-4f3e-b5d9-1a7c3e9f2b64";

/** An ApacheFlink service connection without authentication (scheme None), as the agent hands it to a task. */
export function flinkRestConnection(restUrl: string): FlinkRunnerConnection {
  const url = new URL(restUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--flink-url must be an http(s) URL, got '${restUrl}'`);
  return {
    connection: { id: FLINK_CONNECTION_ID, url: restUrl.replace(/\/?$/, "/"), scheme: "None", parameters: {}, data: {} },
    description: `the Flink cluster at ${restUrl.replace(/\/$/, "")} (ApacheFlink connection, no authentication)`,
    sampleJar: sampleJarSource(restUrl),
  };
}
