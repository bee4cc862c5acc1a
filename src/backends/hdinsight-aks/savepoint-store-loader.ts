/**
 * The tasks that remove savepoints (FlinkSavepoint, FlinkJobDeploy) import this from their entry
 * point, and only they: the dynamic import below makes the bundler ship the storage SDK's chunk
 * with every task that reaches it, so it must not be reachable from the backend.
 */
import { useSavepointStore } from "./savepoint-storage";

/**
 * Registers the Blob API store (savepoint-store.ts), in a file of its own in the split bundle and
 * fetched only when a disposal or prune on HDInsight on AKS runs (see src/backends/index.ts for the
 * two branches). Called by the tasks that remove savepoints:
 * FlinkSavepoint and FlinkJobDeploy.
 */
export function useBlobSavepointStore(): void {
  useSavepointStore(
    async () =>
      (globalThis.FLINK_TASKS_SPLIT_BUNDLE
        ? await import("./savepoint-store.js")
        : // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require where import() cannot load TypeScript (tsx/cjs)
          (require("./savepoint-store") as typeof import("./savepoint-store"))
      ).blobSavepointStore,
  );
}
