/** Savepoint paths in the cluster's texts. */

const COMPLETED = /Savepoint completed\.\s*Path:\s*(\S+)/i;

/** The path a STOP or SAVEPOINT wrote, from its jobOutput ("Savepoint completed. Path: …"). */
export function savepointFromOutput(jobOutput: string | undefined): string | undefined {
  return jobOutput?.match(COMPLETED)?.[1];
}

/** LIST_SAVEPOINT's jobOutput: one savepoint path a line (other lines are ignored). */
export function savepointsFromList(jobOutput: string | undefined): string[] {
  const paths: string[] = [];
  for (const raw of (jobOutput ?? "").split(/\r?\n|,/)) {
    const line = raw.trim().replace(/^Path:\s*/i, "");
    if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(line) || /(^|\/)savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/i.test(line)) {
      if (!paths.includes(line)) paths.push(line);
    }
  }
  return paths;
}

/** `savepoint-20e9e9-8a48c6b905e5` from a name or a full path. */
export function savepointName(nameOrPath: string): string {
  return nameOrPath.replace(/\/+$/, "").split("/").pop() ?? nameOrPath;
}
