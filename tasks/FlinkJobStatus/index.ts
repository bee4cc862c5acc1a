import { runTask } from "../../src/run-task";

void runTask({ task: "FlinkJobStatus", inputs: ["waitForStatus"] });
