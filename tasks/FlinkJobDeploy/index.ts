import { useJarStorage } from "../../src/backends/hdinsight-aks/jar-storage";
import { useBlobSavepointStore } from "../../src/backends/hdinsight-aks/savepoint-store-loader";
import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

// Only this task uploads jars: the storage SDK ships with it alone, in a file of its own fetched
// when a deployment on HDInsight on AKS needs it (see src/backends/index.ts for the two branches).
useJarStorage(async () =>
  (globalThis.FLINK_TASKS_SPLIT_BUNDLE
    ? await import("../../src/backends/hdinsight-aks/blob-jar-store.js")
    : // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require where import() cannot load TypeScript (tsx/cjs)
      (require("../../src/backends/hdinsight-aks/blob-jar-store") as typeof import("../../src/backends/hdinsight-aks/blob-jar-store"))
  ).blobJarStore,
);
// retainSavepoints removes savepoint folders in the same storage, loaded the same way.
useBlobSavepointStore();
void runTask(TASKS.FlinkJobDeploy);
