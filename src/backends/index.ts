/**
 * The table that maps a task's `target` to its backend: the one place a new kind of cluster is
 * added. Each loader requires its module only when called, so a run evaluates the code of its
 * own backend alone (the Flink REST path does not load @azure/identity at start).
 */
import type { BackendModule, Target } from "../jobs/backend";

export const BACKENDS: Record<Target, () => BackendModule<unknown>> = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require: only the chosen backend is evaluated
  hdinsightAks: () => (require("./hdinsight-aks") as typeof import("./hdinsight-aks")).hdinsightAksBackend as BackendModule<unknown>,
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require: only the chosen backend is evaluated
  flinkRest: () => (require("./flink-rest") as typeof import("./flink-rest")).flinkRestBackend as BackendModule<unknown>,
};

export function loadBackend(target: Target): BackendModule<unknown> {
  return BACKENDS[target]();
}
