/**
 * How the HDInsight backend reaches the savepoint folders FlinkSavepoint disposes of. Only that task
 * registers it (tasks/FlinkSavepoint/index.ts), and nothing heavy is imported here: an entry point
 * imports this file at start, and its Flink path must not parse the ARM client or the storage SDK.
 */
import type { JarStorageOptions } from "./jar-storage";

export interface SavepointStore {
  /** Removes every blob under the savepoint's folder and the folder; returns how many blobs there were. */
  removeFolder(savepointPath: string, signal: AbortSignal): Promise<number>;
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
