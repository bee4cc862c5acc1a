import { runTask } from "../../src/run-task";

void runTask({
  task: "FlinkSavepoint",
  action: { name: "operation", actions: { trigger: "SAVEPOINT", list: "LIST_SAVEPOINT" }, default: "trigger" },
  inputs: [],
});
