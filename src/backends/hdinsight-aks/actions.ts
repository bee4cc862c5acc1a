/**
 * The runJob action table: everything that differs between actions on HDInsight on AKS is data
 * here, so the one wait stays one piece of code.
 */
import type { JobAction } from "../../jobs/backend";

export const API_VERSIONS = ["2023-06-01-preview", "2023-11-01-preview", "2024-05-01-preview"] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
export const DEFAULT_API_VERSION: ApiVersion = "2024-05-01-preview";

export type FlinkAction = JobAction;

/** Request-body fields an action may carry beyond jobType, jobName and action. */
export type DefinitionField = "jobJarDirectory" | "jarName" | "entryClass" | "args" | "savePointName" | "flinkConfiguration";

export interface ActionSpec {
  /** The first api-version that has the action. */
  since: ApiVersion;
  fields: readonly DefinitionField[];
  /** NEW makes a new record; every other action acts on an existing one. */
  createsRecord?: boolean;
  /** DELETE's success is the record's disappearance. */
  removesRecord?: boolean;
  /** STOP and SAVEPOINT write a savepoint whose path the task reports. */
  writesSavepoint?: boolean;
  /** LIST_SAVEPOINT's jobOutput lists the job's savepoints. */
  listsSavepoints?: boolean;
  /**
   * Only reads: its result may be taken once its operation has succeeded, even when the record
   * looks as it did before (listing twice gives the same text).
   */
  readOnly?: boolean;
  /** The job statuses in which the action makes sense; elsewhere it is refused before posting. */
  needsStatus?: { running: boolean; advice: string };
}

export const ACTIONS: Record<FlinkAction, ActionSpec> = {
  NEW: { since: "2023-06-01-preview", fields: ["jobJarDirectory", "jarName", "entryClass", "args", "flinkConfiguration"], createsRecord: true },
  STOP: { since: "2023-06-01-preview", fields: [], writesSavepoint: true },
  START: {
    since: "2023-06-01-preview",
    fields: ["savePointName", "args"],
    needsStatus: { running: false, advice: "It is already running: to run new arguments use FlinkJobUpdate; to restart it from a savepoint, stop it with FlinkJobStop first." },
  },
  UPDATE: { since: "2023-06-01-preview", fields: ["args", "savePointName"] },
  STATELESS_UPDATE: { since: "2023-06-01-preview", fields: ["args"] },
  LAST_STATE_UPDATE: { since: "2023-11-01-preview", fields: ["args"] },
  RE_LAUNCH: { since: "2023-11-01-preview", fields: ["args"] },
  SAVEPOINT: {
    since: "2023-06-01-preview",
    fields: [],
    writesSavepoint: true,
    needsStatus: { running: true, advice: "Only a running job can take a savepoint: its last savepoint is in the lastSavepoint output of FlinkJobStatus, or list them with FlinkSavepoint (operation list)." },
  },
  LIST_SAVEPOINT: { since: "2023-06-01-preview", fields: [], listsSavepoints: true, readOnly: true },
  // Not runJob actions: a disposal lists with LIST_SAVEPOINT, then works on storage itself (savepoint-dispose.ts), and so does a prune.
  DISPOSE_SAVEPOINT: { since: "2023-06-01-preview", fields: ["savePointName"] },
  PRUNE_SAVEPOINTS: { since: "2023-06-01-preview", fields: [] },
  CANCEL: { since: "2023-06-01-preview", fields: [] },
  DELETE: { since: "2023-06-01-preview", fields: [], removesRecord: true },
};

export function isApiVersion(value: string): value is ApiVersion {
  return (API_VERSIONS as readonly string[]).includes(value);
}

export function supports(apiVersion: ApiVersion, action: FlinkAction): boolean {
  return apiVersion >= ACTIONS[action].since;
}

/** runId (and with it `$filter` on the list) exists from 2023-11-01-preview on. */
export function hasRunId(apiVersion: ApiVersion): boolean {
  return apiVersion >= "2023-11-01-preview";
}
