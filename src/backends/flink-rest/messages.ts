/**
 * What Flink's refusals mean for the user, cause first: Flink wraps the one line that matters
 * ("entry point class 'x' was not found") in "Could not execute application" and a stack of
 * causes. Pure functions over Flink's text: no network, no state.
 */

/** The longest jar id shown whole: ids the tasks upload carry the job's settings and can run to 200 characters. */
const MAX_JAR_ID = 48;

/** A jar id short enough to read in a sentence; the whole id is in the debug log and `jarId`. */
export function shortJarId(jarId: string): string {
  return jarId.length > MAX_JAR_ID ? `${jarId.slice(0, 36)}…` : jarId;
}

/** Flink's own words for the run's failures, each with the cause a user acts on. */
const RUN_CAUSES: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  [
    /entry point class '([^']*)' was not found in the jar/i,
    (m) => `the entry point class '${m[1]}' was not found in the jar: check entryClass (a fully qualified name such as org.example.MyJob, as the jar holds it), or leave it empty to use the jar's Main-Class`,
  ],
  [/Neither a 'Main-Class', nor a 'program-class' entry was found/i, () => "the jar names no entry class (its manifest has no Main-Class): set entryClass"],
  [/ClassNotFoundException: ([\w.$]+)/, (m) => `the class ${m[1]} was not found when main() ran: build the jar with its dependencies (a fat jar), or check entryClass`],
  [/The main method caused an error: ([^←|]+)/i, (m) => `the job's main() failed: ${m[1]!.trim()}`],
];

/** The cause of a failed /jars/:id/run (or of a job that failed as it started), when Flink's text names one. */
export function runCause(errors: readonly string[]): string | undefined {
  const text = errors.join(" | ");
  for (const [pattern, say] of RUN_CAUSES) {
    const match = text.match(pattern);
    if (match) return say(match);
  }
  return undefined;
}

/** "Flink refused to run jar …", with the cause first when Flink's text names one, and a jar id one can read. */
export function runRefused(jarId: string, errors: readonly string[]): string {
  const cause = runCause(errors);
  const said = `Flink refused to run jar ${shortJarId(jarId)}: ${errors.join(" | ") || "(no error text)"}`;
  return cause ? `${cause[0]!.toUpperCase()}${cause.slice(1)}. ${said}` : said;
}
