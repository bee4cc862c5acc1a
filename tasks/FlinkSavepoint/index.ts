import { useSavepointStore } from "../../src/backends/hdinsight-aks/savepoint-storage";
import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

// Only this task removes savepoint folders from storage: the storage SDK ships with it (and with
// FlinkJobDeploy) in a file of its own, fetched when a disposal on HDInsight on AKS needs it (see
// src/backends/index.ts for the two branches).
useSavepointStore(async () =>
  (globalThis.FLINK_TASKS_SPLIT_BUNDLE
    ? await import("../../src/backends/hdinsight-aks/savepoint-store.js")
    : // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require where import() cannot load TypeScript (tsx/cjs)
      (require("../../src/backends/hdinsight-aks/savepoint-store") as typeof import("../../src/backends/hdinsight-aks/savepoint-store"))
  ).blobSavepointStore,
);
void runTask(TASKS.FlinkSavepoint);
