/**
 * The table that maps a task's `target` to its backend: the one place a new kind of cluster is
 * added. Each loader fetches its module only when called, so a run parses and evaluates the code
 * of its own backend alone: in the shipped bundle each backend is a file of its own beside the
 * task's entry (scripts/build.ts), fetched by import(); under tsx (tests) it is a lazy require.
 */
import type { BackendModule, Target } from "../jobs/backend";

declare global {
  /** Defined as true by scripts/build.ts: the code runs as the split bundle, so import() fetches a file of its own. */
  var FLINK_TASKS_SPLIT_BUNDLE: boolean | undefined;
}

export const BACKENDS: Record<Target, () => Promise<BackendModule<unknown>>> = {
  hdinsightAks: async () =>
    (globalThis.FLINK_TASKS_SPLIT_BUNDLE
      ? await import("./hdinsight-aks/index.js")
      : // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require where import() cannot load TypeScript (tsx/cjs)
        (require("./hdinsight-aks") as typeof import("./hdinsight-aks"))
    ).hdinsightAksBackend as BackendModule<unknown>,
  flinkRest: async () =>
    (globalThis.FLINK_TASKS_SPLIT_BUNDLE
      ? await import("./flink-rest/index.js")
      : // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
        (require("./flink-rest") as typeof import("./flink-rest"))
    ).flinkRestBackend as BackendModule<unknown>,
};

export function loadBackend(target: Target): Promise<BackendModule<unknown>> {
  return BACKENDS[target]();
}
