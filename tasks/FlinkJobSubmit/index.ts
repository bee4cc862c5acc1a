import { runTask } from "../../src/run-task";

void runTask({
  task: "FlinkJobSubmit",
  action: "NEW",
  inputs: ["jobJarDirectory", "jarName", "entryClass", "args", "parallelism", "savepointDirectory", "flinkConfiguration"],
});
