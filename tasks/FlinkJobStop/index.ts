import { runTask } from "../../src/run-task";

void runTask({ task: "FlinkJobStop", action: "STOP", inputs: [] });
