import { useSavepointStore } from "../../src/backends/hdinsight-aks/savepoint-dispose";
import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

// Only this task removes savepoint folders from storage: the storage SDK is bundled here (and in
// FlinkJobDeploy), and loaded only when a disposal on HDInsight on AKS needs it.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require, evaluated when a disposal on HDInsight on AKS needs it
useSavepointStore(() => (require("../../src/backends/hdinsight-aks/savepoint-store") as typeof import("../../src/backends/hdinsight-aks/savepoint-store")).blobSavepointStore);
void runTask(TASKS.FlinkSavepoint);
