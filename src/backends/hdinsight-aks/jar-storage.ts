/**
 * How the HDInsight backend reaches the jar storage a deployment uploads to. Only FlinkJobDeploy
 * registers it (tasks/FlinkJobDeploy/index.ts): the storage SDK is half a megabyte, and the other
 * tasks never upload a jar, so their bundles leave it out. Nothing heavy is imported here.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { NetworkSettings } from "../../azure/network";
import type { Logger } from "../../util/logger";
import type { JarStore } from "./deploy";

export interface JarStorageOptions {
  /** The service connection's credential; asked for the storage scope. */
  credential: TokenCredential;
  /** The agent's network settings: the Blob host's proxy is decided from them. */
  network: NetworkSettings;
  userAgentPrefix: string;
  logger: Logger;
}

export type JarStorageFactory = (options: JarStorageOptions) => JarStore;

let registered: (() => Promise<JarStorageFactory>) | undefined;

/** Registers the jar storage (a loader, so the storage SDK is fetched and evaluated only when a deployment runs on HDInsight on AKS). */
export function useJarStorage(load: () => Promise<JarStorageFactory>): void {
  registered = load;
}

export async function jarStorage(): Promise<JarStorageFactory | undefined> {
  return registered?.();
}
