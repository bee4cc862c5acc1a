/**
 * Runs a bundled task the way the Azure Pipelines agent does. The implementation lives in
 * pipeline-runner/agent-process.ts so the local pipeline runner and the tests share one copy.
 */
export {
  agentEnvironment,
  bundlePath,
  parseRun,
  repoRoot,
  runTask,
  type ConnectionEnv,
  type RunTaskOptions,
  type TaskCommand,
  type TaskRun,
} from "../../pipeline-runner/agent-process";
