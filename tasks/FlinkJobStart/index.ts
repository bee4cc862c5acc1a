import { runTask } from "../../src/run-task";

void runTask({
  task: "FlinkJobStart",
  action: { name: "startMode", actions: { savepoint: "START", relaunch: "RE_LAUNCH" }, default: "savepoint" },
  inputs: ["savepointName", "args"],
  onlyWith: { savepointName: ["savepoint"] },
});
