import { runTask } from "../../src/run-task";

void runTask({ task: "FlinkJobDelete", action: "DELETE", inputs: [] });
