import { runTask } from "../../src/run-task";

void runTask({
  task: "FlinkJobUpdate",
  action: { name: "upgradeMode", actions: { savepoint: "UPDATE", stateless: "STATELESS_UPDATE", lastState: "LAST_STATE_UPDATE" }, default: "savepoint" },
  inputs: ["args", "savepointName"],
  onlyWith: { savepointName: ["savepoint"] },
});
