// Which Apache Flink versions the test bed installs. One place for the matrix.

/** Versions CI always runs: the LTS line and the newest 2.x. */
export const CI_FLINK_VERSIONS: readonly string[] = ["1.20.5", "2.3.0"];

/** Every version the test bed knows how to install (newest patch of each line); the others are opt-in. */
export const SUPPORTED_FLINK_VERSIONS: readonly string[] = ["1.20.5", "2.0.2", "2.1.3", "2.2.1", "2.3.0"];

/** Major version of a Flink version string ("1.20.5" → 1). */
export function flinkMajor(version: string): number {
  return Number(version.split(".")[0]);
}

/**
 * The versions a run covers, from env FLINK_VERSIONS: comma-separated ("1.20.5,2.3.0"), or "all"
 * for every supported version; unset, the CI matrix.
 */
export function flinkVersionsFrom(requested: string | undefined): string[] {
  const text = requested?.trim();
  if (!text) return [...CI_FLINK_VERSIONS];
  if (text === "all") return [...SUPPORTED_FLINK_VERSIONS];
  return text.split(",").map((v) => v.trim()).filter(Boolean);
}
