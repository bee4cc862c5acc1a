import { runTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

void runTask(TASKS.FlinkJobDeploy);
