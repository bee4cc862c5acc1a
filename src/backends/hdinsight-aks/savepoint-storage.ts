/**
 * How the HDInsight backend reaches the savepoint folders it removes (FlinkSavepoint dispose and
 * prune, FlinkJobDeploy's retainSavepoints). Only those two tasks register it, and the storage SDK
 * is loaded only when a removal runs. Nothing heavy is imported here.
 */
import type { JarStorageOptions } from "./jar-storage";

export interface SavepointStore {
  /** Removes every blob under the savepoint's folder and the folder; returns how many blobs there were. */
  removeFolder(savepointPath: string, signal: AbortSignal): Promise<number>;
  /** When the savepoint completed: its `_metadata` blob's last-modified time (ms); undefined when there is none (removed). */
  completedAt(savepointPath: string, signal: AbortSignal): Promise<number | undefined>;
}

export type SavepointStoreFactory = (options: JarStorageOptions) => SavepointStore;

let registered: (() => Promise<SavepointStoreFactory>) | undefined;

/** Registers how savepoint folders are reached (a loader: the storage SDK is fetched and evaluated only when used). */
export function useSavepointStore(load: () => Promise<SavepointStoreFactory>): void {
  registered = load;
}

export async function savepointStore(): Promise<SavepointStoreFactory | undefined> {
  return registered?.();
}
