/** What a cluster's failure text means for the user, for the failures peers learned to recognise. */
const HINTS: [RegExp, string][] = [
  [/Failed to download jar/i, "Check jobJarDirectory and jarName, and that the cluster's managed identity can read that storage account."],
  [
    /Cannot map (checkpoint\/)?savepoint state for operator/i,
    "The savepoint holds state of an operator the new job no longer has. Restore without that state (Flink setting execution.savepoint.ignore-unclaimed-state=true, i.e. allowNonRestoredState), or update with upgradeMode stateless.",
  ],
  [/savepoint.*(not found|does not exist)|FileNotFoundException.*savepoint/i, "The savepoint is missing from storage: list the job's savepoints with FlinkSavepoint (operation list) and pick one."],
];

export function hintFor(jobOutput: string | undefined): string | undefined {
  return HINTS.find(([pattern]) => pattern.test(jobOutput ?? ""))?.[1];
}
