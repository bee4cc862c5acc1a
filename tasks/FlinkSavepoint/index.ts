import { useBlobSavepointStore } from "../../src/backends/hdinsight-aks/savepoint-store-loader";
import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

// Only this task and FlinkJobDeploy remove savepoint folders from storage: the storage SDK ships
// with them in a file of their own, fetched when a disposal or prune on HDInsight on AKS needs it.
useBlobSavepointStore();
void runTask(TASKS.FlinkSavepoint);
