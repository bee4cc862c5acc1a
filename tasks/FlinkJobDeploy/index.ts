import { useJarStorage } from "../../src/backends/hdinsight-aks/jar-storage";
import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

// Only this task uploads jars: the storage SDK is bundled here alone, and loaded only when used.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require, evaluated when a deployment on HDInsight on AKS needs it
useJarStorage(() => (require("../../src/backends/hdinsight-aks/blob-jar-store") as typeof import("../../src/backends/hdinsight-aks/blob-jar-store")).blobJarStore);
void runTask(TASKS.FlinkJobDeploy);
