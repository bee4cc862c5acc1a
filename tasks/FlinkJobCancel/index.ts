import { runTask } from "../../src/run-task";

void runTask({ task: "FlinkJobCancel", action: "CANCEL", inputs: [] });
