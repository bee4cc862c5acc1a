/**
 * The source of every tasks/<Task>/task.json. The common inputs are written once here; each
 * task adds its own. `npm run manifests` writes the files; a test fails when they drift.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { JOB_STATES as FLINK_JOB_STATES } from "../src/backends/flink-rest/api";
import { KNOWN_STATUSES } from "../src/backends/hdinsight-aks/job-record";
import type { TaskName } from "../src/tasks";
import { JOB_NAME_PATTERN } from "../src/validation/rules";
import { parseVersion, readVersionLock } from "./versions";

type Input = Record<string, unknown> & { name: string; type: string; label: string; helpMarkDown: string };

export interface TaskManifestSource {
  /** A task of src/tasks.ts, the table its entry point runs. */
  folder: TaskName;
  id: string;
  friendlyName: string;
  description: string;
  instanceNameFormat: string;
  /** Inputs after the connection and cluster inputs, before the wait settings. */
  inputs: Input[];
  /** jobName is optional only for FlinkJobStatus. */
  jobNameRequired: boolean;
  outputs: [string, string][];
  /** Groups of its own, after the shared ones. */
  extraGroups?: { name: string; displayName: string; isExpanded: boolean }[];
}

const groups = [
  { name: "connection", displayName: "Cluster", isExpanded: true },
  { name: "job", displayName: "Job", isExpanded: true },
  { name: "advanced", displayName: "Waiting and API", isExpanded: false },
];

/** Shown only for HDInsight on AKS; the Flink REST inputs only for `target = flinkRest`. */
const HDINSIGHT_ONLY = "target = hdinsightAks";
const FLINK_REST_ONLY = "target = flinkRest";

function clusterInputs(): Input[] {
  return [
    {
      name: "target",
      type: "pickList",
      label: "Kind of cluster",
      defaultValue: "hdinsightAks",
      required: false,
      groupName: "connection",
      options: { hdinsightAks: "HDInsight on AKS (Azure Resource Manager)", flinkRest: "Apache Flink session cluster (REST API)" },
      helpMarkDown: "`hdinsightAks` (default) runs the action through Azure Resource Manager; `flinkRest` talks to any Apache Flink session cluster's JobManager REST API through an Apache Flink service connection.",
    },
    {
      name: "flinkConnection",
      type: "connectedService:ApacheFlink",
      label: "Apache Flink connection",
      required: true,
      groupName: "connection",
      visibleRule: FLINK_REST_ONLY,
      helpMarkDown:
        "The Apache Flink service connection: the JobManager's REST URL (with its path prefix behind an ingress) and how to authenticate: None, Basic, Token or Client certificate, and a CA certificate for the cluster's TLS. For example `flink-prod`.",
    },
    {
      name: "entraIdConnection",
      type: "connectedService:AzureRM",
      label: "Entra ID token from (Azure Resource Manager connection)",
      required: false,
      groupName: "connection",
      visibleRule: FLINK_REST_ONLY,
      helpMarkDown:
        "Optional: when the gateway in front of Flink checks Entra ID tokens (an OAuth2 proxy), the Azure Resource Manager service connection whose identity gets the token (workload identity federation, service principal with secret or certificate, or managed identity). Use an Apache Flink connection with scheme None (or Client certificate) beside it. For example `arm-flink-deployer`.",
    },
    {
      name: "entraIdScope",
      type: "string",
      label: "Gateway's application ID URI",
      required: false,
      groupName: "connection",
      visibleRule: FLINK_REST_ONLY,
      helpMarkDown: "With `entraIdConnection`: the application ID URI (or client id) of the gateway's app registration, for example `api://flink-gateway`; the token is asked for `<it>/.default`.",
    },
    {
      name: "azureSubscription",
      aliases: ["azureResourceManagerConnection"],
      type: "connectedService:AzureRM",
      label: "Azure Resource Manager connection",
      required: true,
      groupName: "connection",
      visibleRule: HDINSIGHT_ONLY,
      helpMarkDown:
        "The Azure Resource Manager service connection whose identity may run jobs on the cluster (`Microsoft.HDInsight/clusterPools/clusters/runjob/action` and `…/jobs/read`). Workload identity federation, service principal (secret or certificate) and managed identity are supported.",
    },
    {
      name: "resourceGroupName",
      type: "pickList",
      visibleRule: HDINSIGHT_ONLY,
      label: "Resource group",
      required: true,
      groupName: "connection",
      properties: { EditableOptions: "True" },
      helpMarkDown: "Resource group of the cluster pool, for example `rg-flink-prod`.",
    },
    {
      name: "clusterPoolName",
      type: "pickList",
      visibleRule: HDINSIGHT_ONLY,
      label: "Cluster pool",
      required: true,
      groupName: "connection",
      properties: { EditableOptions: "True" },
      helpMarkDown: "HDInsight on AKS cluster pool, for example `flinkpool`.",
    },
    {
      name: "clusterName",
      type: "pickList",
      visibleRule: HDINSIGHT_ONLY,
      label: "Flink cluster",
      required: true,
      groupName: "connection",
      properties: { EditableOptions: "True" },
      helpMarkDown: "Flink cluster in the pool, for example `flinkcluster`.",
    },
  ];
}

/** Flink REST: the jar the task uploads (replaces the HDInsight jar directory and name). */
function jarFileInput(required: boolean, help: string): Input {
  return { name: "jarFile", type: "filePath", label: "Jar file", required, groupName: "job", visibleRule: FLINK_REST_ONLY, helpMarkDown: help };
}

/** Flink REST: restore even when some of the savepoint's state maps to no operator. */
function allowNonRestoredStateInput(): Input {
  return {
    name: "allowNonRestoredState",
    type: "boolean",
    label: "Allow non-restored state",
    defaultValue: "false",
    required: false,
    groupName: "job",
    visibleRule: FLINK_REST_ONLY,
    helpMarkDown: "Apache Flink (REST): restore even when the savepoint holds state for an operator the new job no longer has (that state is dropped). For example `true` after removing an operator; default `false`.",
  };
}

/** A two-way switch of Apache Flink (REST) alone: HDInsight on AKS has no such switch, and its help says so. */
function flinkSwitch(name: string, label: string, options: Record<string, string>, visibleRule: string, help: string): Input {
  const defaultValue = Object.keys(options)[0]!;
  return { name, type: "radio", label, defaultValue, required: false, groupName: "job", options, visibleRule, helpMarkDown: `Apache Flink (REST): ${help} HDInsight on AKS has no such switch.` };
}

/** Flink's formatType for the savepoint the task writes. */
function savepointFormatInput(visibleRule = FLINK_REST_ONLY): Input {
  return flinkSwitch(
    "savepointFormat",
    "Savepoint format",
    { canonical: "Canonical", native: "Native" },
    visibleRule,
    "`canonical` (default) writes a savepoint any state backend can restore; `native` writes the state backend's own files, faster for large RocksDB state and the format Flink 2.x's asynchronous (ForSt) state backend needs. For example `native`.",
  );
}

/** Who owns the restored snapshot's files: Flink's claimMode (restoreMode before Flink 1.20). */
function restoreModeInput(visibleRule = FLINK_REST_ONLY): Input {
  return flinkSwitch(
    "restoreMode",
    "Restore mode",
    { noClaim: "No claim", claim: "Claim" },
    visibleRule,
    "`noClaim` (default) leaves the savepoint to you (the job's first checkpoint is a full one, and the savepoint can restore again, for a rollback); `claim` hands it to Flink, which deletes it once newer checkpoints replace it. For example `claim`.",
  );
}

/** More Flink settings, as `key=value` lines or one JSON object; the help says what they do for the task. */
function flinkConfigurationInput(help: string): Input {
  return { name: "flinkConfiguration", type: "multiLine", label: "More Flink configuration", required: false, groupName: "job", properties: { resizable: true, rows: "4" }, helpMarkDown: help };
}

function jobNameInput(required: boolean): Input {
  return {
    name: "jobName",
    type: "pickList",
    label: "Job name",
    required,
    groupName: "job",
    // Editable: a new job's name is typed; with flinkRest the cluster's jobs are offered.
    properties: { EditableOptions: "True" },
    helpMarkDown: required
      ? "The Flink job's name, lower case (letters, digits, `-`), for example `orders-enrichment`."
      : "A job's name, for example `orders`, to read only that job; empty reads every job on the cluster.",
    // Two arguments: case-sensitive (the options argument only adds IgnoreCase or Multiline). Empty is the required check's business.
    validation: {
      expression: `isMatch(value, '^(${JOB_NAME_PATTERN})?$')`,
      message: "Use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, for example orders-enrichment.",
    },
  };
}

/** The project's address, written once: package.json's repository. */
export function repositoryUrl(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "package.json"), "utf8")) as { repository?: { url?: string } };
  const url = pkg.repository?.url?.replace(/^git\+/, "").replace(/\.git$/, "");
  if (!url) throw new Error("package.json has no repository.url");
  return url;
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as '-'. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The task's section of overview.md (the heading that starts with its name), on the repository's page. */
export function taskHelpUrl(task: string): string {
  const overview = fs.readFileSync(path.resolve(__dirname, "..", "overview.md"), "utf8");
  const heading = new RegExp(`^#{2,4} (${task} .*)$`, "m").exec(overview)?.[1];
  if (!heading) throw new Error(`overview.md has no section for ${task}`);
  return `${repositoryUrl()}/blob/main/overview.md#${headingAnchor(heading)}`;
}

function waitInputs(): Input[] {
  return [
    {
      name: "apiVersion",
      type: "pickList",
      visibleRule: HDINSIGHT_ONLY,
      label: "API version",
      defaultValue: "2024-05-01-preview",
      required: false,
      groupName: "advanced",
      options: { "2024-05-01-preview": "2024-05-01-preview", "2023-11-01-preview": "2023-11-01-preview", "2023-06-01-preview": "2023-06-01-preview" },
      properties: { EditableOptions: "True" },
      helpMarkDown: "The HDInsight on AKS API version. `2023-06-01-preview` lacks run ids, `LAST_STATE_UPDATE` and `RE_LAUNCH`.",
    },
    {
      name: "waitForCompletion",
      type: "boolean",
      label: "Wait for the action to finish",
      defaultValue: "true",
      required: false,
      groupName: "advanced",
      helpMarkDown: "When cleared, the step succeeds as soon as the cluster has accepted the action, with `actionResult` IN_PROGRESS.",
    },
    {
      name: "waitTimeoutInMinutes",
      type: "int",
      label: "Timeout (minutes)",
      defaultValue: "30",
      required: false,
      groupName: "advanced",
      helpMarkDown: "How long to wait for the action's result, for example `30`. On timeout the action may still complete on the cluster.",
    },
    {
      name: "pollingIntervalInSeconds",
      type: "int",
      label: "Longest polling interval (seconds)",
      defaultValue: "10",
      required: false,
      groupName: "advanced",
      helpMarkDown: "The longest gap between two status reads, for example `10`. Reads start every second and slow down to this.",
    },
  ];
}

const OUTPUT_HELP: Record<string, string> = {
  jobName: "The job's name.",
  runId: "The run id of the job record (API 2023-11-01-preview or later).",
  jobId: "The 32-hex Flink job id.",
  jobStatus: "The job's status after the action (RUNNING, STOPPED, …).",
  actionResult: "SUCCESS, FAILED, or IN_PROGRESS when not waiting.",
  jobOutput: "The cluster's jobOutput text for the action.",
  lastSavepoint: "The job's last savepoint.",
  savepointPath: "The savepoint this action wrote.",
  savepoints: "A JSON array of the job's savepoint paths.",
  savepointCount: "How many savepoints the job has.",
  jobs: "A JSON array of the job records read.",
  deployAction: "What the deployment did: submitted, upgraded, unchanged, repaired (the live execution ran this jar but was not healthy), or rolledBack (the step then fails); with dryRun the plan, prefixed plan: (plan:upgraded, …).",
  jarSha256: "The SHA-256 of the deployed jar.",
  jarPath: "HDInsight on AKS: the abfss:// path of the uploaded jar.",
  jarId: "Apache Flink (REST): the id of the jar the job runs from, as the cluster's /jars lists it.",
  previousSavepoint: "The savepoint an upgrade started from, also the rollback point.",
  jobCount: "How many job records were read.",
};

export const RECORD_OUTPUTS = ["jobName", "runId", "jobId", "jobStatus", "actionResult", "jobOutput", "lastSavepoint", "jarId"];

export function outputs(names: string[]): [string, string][] {
  return names.map((n) => [n, OUTPUT_HELP[n] ?? n]);
}

/** ARM api-version of the HDInsight on AKS listing calls behind the classic editor's picklists. */
export const PICKLIST_API_VERSION = "2024-05-01-preview";

/**
 * ARM pages a long list: its nextLink carries the skip token. The server calls the binding again
 * with the token while a nextLink is present (the form Microsoft's own tasks use).
 */
function nextLinkPaging(parameter: "$skiptoken" | "$skipToken") {
  return {
    initialContextTemplate: '{"skiptoken": ""}',
    callbackContextTemplate: `{"skiptoken": "{{#getTokenValue response.nextLink}}{{extractUrlQueryParameter ${parameter.replace("$", "%24")}}}{{/getTokenValue}}"}`,
    callbackRequiredTemplate: "{{isTokenPresent response.nextLink}}",
  };
}

/**
 * The classic editor's HDInsight picklists, filled through the ARM service connection: resource
 * groups, cluster pools in the group, clusters in the pool. The inputs stay editable so variables work.
 */
export const ARM_PICKLISTS = [
  {
    target: "resourceGroupName",
    endpointId: "$(azureSubscription)",
    endpointUrl: "{{{endpoint.url}}}subscriptions/{{{endpoint.subscriptionId}}}/resourcegroups?$skiptoken={{{skiptoken}}}&api-version=2021-04-01",
    ...nextLinkPaging("$skiptoken"),
    resultSelector: "jsonpath:$.value[*]",
    resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}}" }',
  },
  {
    target: "clusterPoolName",
    endpointId: "$(azureSubscription)",
    endpointUrl: `{{{endpoint.url}}}subscriptions/{{{endpoint.subscriptionId}}}/resourceGroups/$(resourceGroupName)/providers/Microsoft.HDInsight/clusterpools?$skipToken={{{skiptoken}}}&api-version=${PICKLIST_API_VERSION}`,
    ...nextLinkPaging("$skipToken"),
    resultSelector: "jsonpath:$.value[*]",
    resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}} ({{{location}}})" }',
  },
  {
    target: "clusterName",
    endpointId: "$(azureSubscription)",
    endpointUrl: `{{{endpoint.url}}}subscriptions/{{{endpoint.subscriptionId}}}/resourceGroups/$(resourceGroupName)/providers/Microsoft.HDInsight/clusterpools/$(clusterPoolName)/clusters?$skipToken={{{skiptoken}}}&api-version=${PICKLIST_API_VERSION}`,
    ...nextLinkPaging("$skipToken"),
    resultSelector: "jsonpath:$.value[*]",
    resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}}" }',
  },
];

/** The jobs of a Flink cluster, through the ApacheFlink connection's data source (GET /jobs/overview). */
export const FLINK_JOBS_PICKLIST = {
  target: "jobName",
  endpointId: "$(flinkConnection)",
  dataSourceName: "FlinkJobs",
  resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}} ({{{state}}}, {{{jid}}})" }',
};

export const DATA_SOURCE_BINDINGS = [...ARM_PICKLISTS, FLINK_JOBS_PICKLIST];

export type TaskVersion = { Major: number; Minor: number; Patch: number };

export function renderManifest(source: TaskManifestSource, author: string, version: TaskVersion): object {
  const inputs = [...clusterInputs(), jobNameInput(source.jobNameRequired), ...source.inputs, ...waitInputs()];
  return {
    $schema: "https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json",
    id: source.id,
    name: source.folder,
    friendlyName: source.friendlyName,
    description: source.description,
    helpUrl: taskHelpUrl(source.folder),
    helpMarkDown: `[Inputs, outputs and examples of ${source.folder}](${taskHelpUrl(source.folder)}) · [report a problem](${repositoryUrl()}/issues)`,
    category: "Deploy",
    visibility: ["Build", "Release"],
    runsOn: ["Agent", "DeploymentGroup"],
    author,
    version,
    minimumAgentVersion: "3.232.1",
    instanceNameFormat: source.instanceNameFormat,
    groups: [...groups, ...(source.extraGroups ?? [])],
    inputs,
    dataSourceBindings: DATA_SOURCE_BINDINGS,
    outputVariables: source.outputs.map(([name, description]) => ({ name, description })),
    restrictions: { settableVariables: { allowed: source.outputs.map(([name]) => name) } },
    execution: {
      Node20_1: { target: "index.js", argumentFormat: "" },
      Node24: { target: "index.js", argumentFormat: "" },
    },
  };
}

export const TASKS: TaskManifestSource[] = [
  {
    folder: "FlinkJobDeploy",
    id: "16b81526-9280-449b-a9c1-26f653486cf1",
    friendlyName: "Flink job: deploy",
    description: "Make this jar run as this Apache Flink job: upload it, submit or upgrade, check health, roll back on failure",
    instanceNameFormat: "Deploy Flink job $(jobName)",
    jobNameRequired: true,
    extraGroups: [{ name: "rollout", displayName: "Upgrade and health check", isExpanded: true }],
    inputs: [
      {
        name: "jarFile",
        type: "filePath",
        label: "Jar file",
        required: true,
        groupName: "job",
        helpMarkDown: "The jar your build produced: a path or pattern under the working directory that matches exactly one `.jar`, for example `$(Pipeline.Workspace)/drop/target/orders-*.jar` or `**/target/orders-*.jar`.",
      },
      {
        name: "jobJarDirectory",
        type: "string",
        label: "Jar directory",
        required: true,
        groupName: "job",
        visibleRule: "target = hdinsightAks",
        helpMarkDown: "HDInsight on AKS: the `abfs[s]://` directory the jar is uploaded to, with the service connection's identity (Storage Blob Data Contributor), for example `abfss://jars@mystorage.dfs.core.windows.net/orders`.",
      },
      { name: "entryClass", type: "string", label: "Entry class", required: false, groupName: "job", helpMarkDown: "The job's main class, for example `com.contoso.orders.OrdersJob`. Required with HDInsight on AKS; with Apache Flink (REST) empty uses the jar's manifest." },
      { name: "args", type: "string", label: "Arguments", required: false, groupName: "job", helpMarkDown: "Program arguments, space separated, quotes group, for example `--input orders --window 5m`." },
      { name: "parallelism", type: "int", label: "Parallelism", required: false, groupName: "job", helpMarkDown: "The job's parallelism, a whole number ≥ 1, for example `2`. Empty: the cluster's default." },
      {
        name: "savepointDirectory",
        type: "string",
        label: "Savepoint directory",
        required: false,
        groupName: "job",
        helpMarkDown: "Where the savepoint before an upgrade (the rollback point) goes, for example `abfss://state@mystorage.dfs.core.windows.net/savepoints` or `s3://state/savepoints`. Empty: the cluster's default.",
      },
      savepointFormatInput(),
      restoreModeInput(),
      {
        name: "retainSavepoints",
        type: "int",
        label: "Savepoints to keep",
        required: false,
        groupName: "rollout",
        helpMarkDown:
          "After a successful deploy, keep the job's newest N savepoints and dispose of the older ones (never the one the running version restored from, nor the newest), for example `5`; on HDInsight on AKS their folders are removed through the storage's Blob API. Empty: keep them all.",
      },
      flinkConfigurationInput("More Flink settings, one `key=value` a line (for example `execution.checkpointing.interval=30s`) or one JSON object. A change here is a change of the job: it upgrades it."),
      {
        name: "upgradeMode",
        type: "radio",
        label: "Upgrade mode",
        defaultValue: "savepoint",
        required: false,
        groupName: "rollout",
        options: { savepoint: "Savepoint", lastState: "Last state", stateless: "Stateless" },
        helpMarkDown: "How a running job is upgraded: `savepoint` (default) stops it with a savepoint and starts the new version from it; `lastState` cancels it and restarts from its newest retained checkpoint; `stateless` starts the new version empty (a savepoint is still taken where a directory is known, for the rollback). For example `savepoint`.",
      },
      {
        name: "healthCheckSeconds",
        type: "int",
        label: "Health check (seconds)",
        defaultValue: "60",
        required: false,
        groupName: "rollout",
        helpMarkDown: "How long the new version must stay RUNNING without restarts (and, with checkpointing on, complete a checkpoint) before the step succeeds, for example `60`; `0` only waits for RUNNING.",
      },
      {
        name: "rollbackOnFailure",
        type: "boolean",
        label: "Roll back on failure",
        defaultValue: "true",
        required: false,
        groupName: "rollout",
        helpMarkDown: "When the new version fails to start, is not RUNNING in time or fails its health check, bring back the previous version and settings from the savepoint taken before the upgrade; the step then fails with `deployAction` rolledBack. Cleared (for example `false`): the new version is left as it is.",
      },
      {
        name: "dryRun",
        type: "boolean",
        label: "Dry run (plan only)",
        defaultValue: "false",
        required: false,
        groupName: "rollout",
        helpMarkDown: "Read the job and report the plan (submit, upgrade, unchanged or repair; the jar; the snapshot it would stop to or restore from; the upgrade mode and why) in the log, the summary and `deployAction` (`plan:upgraded`, …). Nothing is changed.",
      },
    ],
    outputs: outputs([...RECORD_OUTPUTS, "deployAction", "jarSha256", "jarPath", "previousSavepoint"]),
  },
  {
    folder: "FlinkJobSubmit",
    id: "bbf81c0b-3f48-498b-9590-028773fdad26",
    friendlyName: "Flink job: submit",
    description: "Submit a new Apache Flink job (HDInsight on AKS, or any Flink session cluster through its REST API) and wait until it runs",
    instanceNameFormat: "Submit Flink job $(jobName)",
    jobNameRequired: true,
    inputs: [
      {
        name: "jobJarDirectory",
        type: "string",
        label: "Jar directory",
        required: true,
        groupName: "job",
        visibleRule: HDINSIGHT_ONLY,
        helpMarkDown: "The storage folder that holds the job's jar, an `abfs://` or `abfss://` URI, for example `abfss://jars@mystorage.dfs.core.windows.net/jobs`.",
      },
      { name: "jarName", type: "string", label: "Jar name", required: true, groupName: "job", visibleRule: HDINSIGHT_ONLY, helpMarkDown: "The jar's file name, for example `orders-1.4.0.jar`." },
      jarFileInput(true, "Apache Flink (REST): the jar to upload and run, a path or pattern under the working directory that matches exactly one `.jar`, for example `**/target/orders-*.jar`."),
      {
        name: "entryClass",
        type: "string",
        label: "Entry class",
        required: false,
        groupName: "job",
        helpMarkDown: "The job's main class, for example `com.contoso.orders.OrdersJob`. Required with HDInsight on AKS; with Apache Flink (REST) empty uses the jar's manifest.",
      },
      { name: "args", type: "string", label: "Arguments", required: false, groupName: "job", helpMarkDown: "Program arguments, space separated, for example `--input orders --window 5m`." },
      { name: "parallelism", type: "int", label: "Parallelism", defaultValue: "2", required: false, groupName: "job", helpMarkDown: "The job's parallelism, a whole number ≥ 1, for example `2`." },
      {
        name: "savepointDirectory",
        type: "string",
        label: "Savepoint directory",
        required: false,
        groupName: "job",
        helpMarkDown: "Where savepoints go, for example `abfss://state@mystorage.dfs.core.windows.net/savepoints` (HDInsight on AKS: an `abfs://` or `abfss://` URI) or any URI the Flink cluster can write, such as `s3://state/savepoints`.",
      },
      {
        name: "savepointName",
        type: "string",
        label: "Start from savepoint",
        required: false,
        groupName: "job",
        visibleRule: FLINK_REST_ONLY,
        helpMarkDown: "Apache Flink (REST): start the new job from this savepoint's path, for example `$(stop.savepointPath)`. Empty: start without state.",
      },
      allowNonRestoredStateInput(),
      flinkConfigurationInput("More Flink settings, one `key=value` a line (for example `taskmanager.numberOfTaskSlots=2`) or one JSON object. Set parallelism and the savepoint directory with their own inputs."),
    ],
    outputs: outputs(RECORD_OUTPUTS),
  },
  {
    folder: "FlinkJobStop",
    id: "93bce1d3-e96b-4716-9cc7-9bb95c7ed30e",
    friendlyName: "Flink job: stop with savepoint",
    description: "Stop an Apache Flink job with a savepoint (HDInsight on AKS or a Flink session cluster), and report the savepoint's path",
    instanceNameFormat: "Stop Flink job $(jobName) with a savepoint",
    jobNameRequired: true,
    inputs: [savepointFormatInput()],
    outputs: outputs([...RECORD_OUTPUTS, "savepointPath"]),
  },
  {
    folder: "FlinkJobStart",
    id: "84fb6c35-a2d4-41f9-8f92-f7813de8e53e",
    friendlyName: "Flink job: start",
    description: "Start a stopped Apache Flink job from a savepoint, or relaunch it (HDInsight on AKS or a Flink session cluster)",
    instanceNameFormat: "Start Flink job $(jobName) ($(startMode))",
    jobNameRequired: true,
    inputs: [
      {
        name: "startMode",
        type: "radio",
        label: "Start from",
        defaultValue: "savepoint",
        required: false,
        groupName: "job",
        options: { savepoint: "A savepoint (START)", relaunch: "Relaunch (RE_LAUNCH, API 2023-11-01-preview or later)" },
        helpMarkDown: "`savepoint` starts the job from a savepoint (the last successful one unless you name one); `relaunch` relaunches it.",
      },
      {
        name: "savepointName",
        type: "string",
        label: "Savepoint",
        required: false,
        groupName: "job",
        visibleRule: "startMode = savepoint",
        helpMarkDown: "A savepoint's name (`savepoint-20e9e9-8a48c6b905e5`) or full path, such as `$(stop.savepointPath)`. Empty: the last successful savepoint.",
      },
      { name: "args", type: "string", label: "Arguments", required: false, groupName: "job", helpMarkDown: "Program arguments for the restarted job, for example `--window 5m`." },
      jarFileInput(false, "Apache Flink (REST), optional: the jar to run, for example `**/target/orders-*.jar`; needed only when the cluster no longer holds the stopped job's jar (its JobManager restarted). Empty: the jar the job ran from."),
      allowNonRestoredStateInput(),
      restoreModeInput(),
    ],
    outputs: outputs(RECORD_OUTPUTS),
  },
  {
    folder: "FlinkJobUpdate",
    id: "6885debb-3769-44d0-b598-25c10d3f1962",
    friendlyName: "Flink job: update",
    description: "Update a running Apache Flink job with or without its state (HDInsight on AKS or a Flink session cluster)",
    instanceNameFormat: "Update Flink job $(jobName) ($(upgradeMode))",
    jobNameRequired: true,
    inputs: [
      {
        name: "upgradeMode",
        type: "radio",
        label: "Upgrade mode",
        defaultValue: "savepoint",
        required: false,
        groupName: "job",
        options: { savepoint: "Savepoint (UPDATE)", stateless: "Stateless (STATELESS_UPDATE)", lastState: "Last state (LAST_STATE_UPDATE, API 2023-11-01-preview or later)" },
        helpMarkDown: "`savepoint` keeps the state through a savepoint, `stateless` starts without state, `lastState` resumes from the last checkpoint.",
      },
      { name: "args", type: "string", label: "Arguments", required: false, groupName: "job", helpMarkDown: "Program arguments for the updated job, for example `--window 10m`." },
      {
        name: "savepointName",
        type: "string",
        label: "Savepoint",
        required: false,
        groupName: "job",
        visibleRule: "upgradeMode = savepoint",
        helpMarkDown: "A savepoint's name (`savepoint-20e9e9-8a48c6b905e5`) or full path to restore from. Empty: the cluster takes one.",
      },
      jarFileInput(false, "Apache Flink (REST), optional: the new jar, for example `**/target/orders-*.jar`. Empty: the job's current jar, with the new arguments."),
      {
        name: "entryClass",
        type: "string",
        label: "Entry class",
        required: false,
        groupName: "job",
        visibleRule: FLINK_REST_ONLY,
        helpMarkDown: "Apache Flink (REST), optional: the new jar's main class, for example `com.contoso.orders.OrdersJob`. Empty: the jar's manifest, or the class the job ran with.",
      },
      allowNonRestoredStateInput(),
      savepointFormatInput("target = flinkRest && upgradeMode = savepoint"),
      restoreModeInput(),
    ],
    outputs: outputs(RECORD_OUTPUTS),
  },
  {
    folder: "FlinkSavepoint",
    id: "1e920c65-0026-4999-95a1-09a16adaf83f",
    friendlyName: "Flink job: savepoints",
    description: "Trigger a savepoint of an Apache Flink job, or list its savepoints (HDInsight on AKS or a Flink session cluster)",
    instanceNameFormat: "Flink job $(jobName): $(operation) savepoints",
    jobNameRequired: true,
    inputs: [
      {
        name: "operation",
        type: "radio",
        label: "Operation",
        defaultValue: "trigger",
        required: false,
        groupName: "job",
        options: { trigger: "Trigger a savepoint (SAVEPOINT)", list: "List savepoints (LIST_SAVEPOINT)", dispose: "Dispose of a savepoint", prune: "Prune old savepoints" },
        helpMarkDown:
          "`trigger` writes a savepoint and sets `savepointPath`; `list` sets `savepoints` (a JSON array of `{path, time, origin, jobId, restoredByLive}`, newest first) and `savepointCount`; `dispose` removes the savepoint `savepointName`; `prune` keeps the newest `keepLast` and removes older ones. Neither removes the savepoint the running job restored from, nor the newest.",
      },
      savepointFormatInput("target = flinkRest && operation = trigger"),
      {
        name: "savepointName",
        type: "string",
        label: "Savepoint",
        required: false,
        groupName: "job",
        visibleRule: "operation = dispose",
        helpMarkDown: "The savepoint to remove: its name (`savepoint-493dc1-c5b00e42edc2`) or full path, for example `$(list.lastSavepoint)`.",
      },
      {
        name: "keepLast",
        type: "int",
        label: "Savepoints to keep",
        defaultValue: "5",
        required: false,
        groupName: "job",
        visibleRule: "operation = prune",
        helpMarkDown: "How many of the job's newest savepoints `prune` keeps, for example `5` (default); the one the running job restored from is kept as well.",
      },
      {
        name: "maxAgeDays",
        type: "int",
        label: "Maximum age (days)",
        required: false,
        groupName: "job",
        visibleRule: "operation = prune",
        helpMarkDown: "Optional: `prune` also removes savepoints older than this many days, among the newest `keepLast` too (never the protected ones), for example `30`. Empty: age does not matter.",
      },
    ],
    outputs: outputs([...RECORD_OUTPUTS, "savepointPath", "savepoints", "savepointCount"]),
  },
  {
    folder: "FlinkJobCancel",
    id: "c871693f-0a2f-4db9-8ef5-dcad27971d76",
    friendlyName: "Flink job: cancel",
    description: "Cancel an Apache Flink job without a savepoint (HDInsight on AKS or a Flink session cluster)",
    instanceNameFormat: "Cancel Flink job $(jobName)",
    jobNameRequired: true,
    inputs: [],
    outputs: outputs(RECORD_OUTPUTS),
  },
  {
    folder: "FlinkJobDelete",
    id: "5d9413d9-854a-4462-8769-8b5e1cbc4e09",
    friendlyName: "Flink job: delete",
    description: "Delete an Apache Flink job's record (HDInsight on AKS), or the jars the tasks left for it (Flink session cluster)",
    instanceNameFormat: "Delete Flink job $(jobName)",
    jobNameRequired: true,
    inputs: [],
    outputs: outputs(RECORD_OUTPUTS),
  },
  {
    folder: "FlinkJobStatus",
    id: "31717028-aae8-427d-92af-0eb81b5568ed",
    friendlyName: "Flink job: status",
    description: "Read the status of one or every Apache Flink job (HDInsight on AKS or a Flink session cluster), optionally waiting for a status",
    instanceNameFormat: "Flink job status $(jobName)",
    jobNameRequired: false,
    inputs: [
      {
        name: "waitForStatus",
        type: "pickList",
        label: "Wait for status",
        required: false,
        groupName: "job",
        options: Object.fromEntries([...new Set([...KNOWN_STATUSES, ...FLINK_JOB_STATES])].map((s) => [s, s])),
        properties: { EditableOptions: "True" },
        helpMarkDown: "A status such as `RUNNING`: keep reading until the job has it, or time out. The step fails at once if the job reaches a failure status.",
      },
    ],
    outputs: outputs([...RECORD_OUTPUTS, "jobs", "jobCount"]),
  },
];

/** Writes every task.json, each with its version from task-versions.json. */
function main(): void {
  const root = path.resolve(__dirname, "..");
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { author?: string };
  const lock = readVersionLock();
  for (const source of TASKS) {
    const file = path.join(root, "tasks", source.folder, "task.json");
    const text = `${JSON.stringify(renderManifest(source, pkg.author ?? "Flink Jobs for Azure Pipelines", parseVersion(lock.tasks[source.folder]?.version ?? "1.0.0")), null, 2)}\n`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

if (require.main === module) main();
