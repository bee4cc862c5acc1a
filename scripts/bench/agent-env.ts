/**
 * The environment the Azure Pipelines agent gives a task step, for the emulator's service
 * connection: the pipeline runner's own builders, so the bench, the tests and the demo agree.
 * The bundled tasks and the baseline read the very same variables.
 */
import type { Emulator } from "../../emulator/index";
import { agentEnvironment } from "../../pipeline-runner/agent-process";
import { emulatorConnection } from "../../pipeline-runner/connection";

export function agentEnv(emulator: Emulator, inputs: Record<string, string>, tempDir: string): Record<string, string> {
  const { connection, env } = emulatorConnection(emulator);
  return agentEnvironment(
    {
      task: "",
      connection,
      env,
      inputs: { resourceGroupName: emulator.resourceGroup, clusterPoolName: emulator.clusterPool, clusterName: emulator.cluster, ...inputs },
    },
    tempDir,
  );
}
