/** Savepoint paths in the cluster's texts. */

const COMPLETED = /Savepoint completed\.\s*Path:\s*([^\s"',\]]+)/i;

/** The path a STOP or SAVEPOINT wrote, from its jobOutput ("Savepoint completed. Path: …"). */
export function savepointFromOutput(jobOutput: string | undefined): string | undefined {
  return jobOutput?.match(COMPLETED)?.[1];
}

/** A URI (abfs://…, s3://…) or a bare Flink savepoint name, wherever it stands in the text. */
const SAVEPOINT = /[a-z][a-z0-9+.-]*:\/\/[^\s"',[\]{}<>]+|(?<![\w/-])savepoint-[0-9a-f]{6}-[0-9a-f]{12}(?![\w-])/gi;

/**
 * LIST_SAVEPOINT's jobOutput. Its framing is undocumented (one path a line, a JSON array, …), so
 * savepoints are recognised by their shape wherever they stand, not by the lines they sit on.
 */
export function savepointsFromList(jobOutput: string | undefined): string[] {
  const paths: string[] = [];
  for (const match of (jobOutput ?? "").matchAll(SAVEPOINT)) {
    const path = match[0].replace(/[.;:]+$/, "");
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** `savepoint-20e9e9-8a48c6b905e5` from a name or a full path. */
export function savepointName(nameOrPath: string): string {
  return nameOrPath.replace(/\/+$/, "").split("/").pop() ?? nameOrPath;
}
