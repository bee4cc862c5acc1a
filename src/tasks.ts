/**
 * The one table of task specs. A task's entry point (tasks/<Task>/index.ts), its manifest source
 * (scripts/task-manifests.ts) and the tests all read it: what tells one task from another is the
 * data here, and the flow (src/run-task.ts) is the same for all.
 */
import type { JobAction } from "./jobs/backend";

/** An input that picks the action: its values, each mapped to the action it runs. */
export interface ModeInput {
  name: string;
  actions: Record<string, JobAction>;
  default: string;
}

/** What a task is. */
export interface TaskSpec {
  /** The task's name, as in task.json and its folder. */
  task: TaskName;
  /** The action it runs, or the input that chooses it. Absent: the task only reads jobs. */
  action?: JobAction | ModeInput;
  /** Inputs valid only with some mode values (e.g. savepointName only with startMode savepoint). */
  onlyWith?: Readonly<Record<string, readonly string[]>>;
  /** FlinkJobDeploy: the flow runs the backend's deploy (src/jobs/deploy.ts) instead of one action. */
  deploy?: true;
}

export type TaskName =
  | "FlinkJobSubmit"
  | "FlinkJobStop"
  | "FlinkJobStart"
  | "FlinkJobUpdate"
  | "FlinkSavepoint"
  | "FlinkJobCancel"
  | "FlinkJobDelete"
  | "FlinkJobStatus"
  | "FlinkJobDeploy";

export const TASKS: { readonly [Name in TaskName]: TaskSpec & { task: Name } } = {
  FlinkJobSubmit: { task: "FlinkJobSubmit", action: "NEW" },
  FlinkJobStop: { task: "FlinkJobStop", action: "STOP" },
  FlinkJobStart: {
    task: "FlinkJobStart",
    action: { name: "startMode", actions: { savepoint: "START", relaunch: "RE_LAUNCH" }, default: "savepoint" },
    onlyWith: { savepointName: ["savepoint"] },
  },
  FlinkJobUpdate: {
    task: "FlinkJobUpdate",
    action: { name: "upgradeMode", actions: { savepoint: "UPDATE", stateless: "STATELESS_UPDATE", lastState: "LAST_STATE_UPDATE" }, default: "savepoint" },
    onlyWith: { savepointName: ["savepoint"] },
  },
  FlinkSavepoint: {
    task: "FlinkSavepoint",
    action: { name: "operation", actions: { trigger: "SAVEPOINT", list: "LIST_SAVEPOINT", dispose: "DISPOSE_SAVEPOINT", prune: "PRUNE_SAVEPOINTS" }, default: "trigger" },
    // Not keepLast: it has a default, which the agent sends whatever the operation.
    onlyWith: { savepointName: ["dispose"], maxAgeDays: ["prune"] },
  },
  FlinkJobCancel: { task: "FlinkJobCancel", action: "CANCEL" },
  FlinkJobDelete: { task: "FlinkJobDelete", action: "DELETE" },
  FlinkJobStatus: { task: "FlinkJobStatus" },
  // NEW: the jar and job-definition inputs are validated as a submit's; Deploy's own are read apart.
  FlinkJobDeploy: { task: "FlinkJobDeploy", action: "NEW", deploy: true },
};
