// Mocha support: which Flink versions a run covers, and one real cluster per suite.
import { startFlinkCluster, type FlinkCluster, type FlinkClusterOptions } from "./cluster";
import { buildTestJobJars, type TestJobJars } from "./job";
import { CI_FLINK_VERSIONS, SUPPORTED_FLINK_VERSIONS } from "./versions";

/**
 * Versions under test: env FLINK_VERSIONS, comma-separated ("1.20.5,2.3.0"), or "all" for every
 * supported version; default the CI matrix.
 */
export function flinkVersionsUnderTest(): string[] {
  const requested = process.env.FLINK_VERSIONS?.trim();
  if (!requested) return [...CI_FLINK_VERSIONS];
  if (requested === "all") return [...SUPPORTED_FLINK_VERSIONS];
  return requested.split(",").map((v) => v.trim()).filter(Boolean);
}

/** What a suite gets from useFlinkCluster: set in `before`, valid until `after`. */
export interface FlinkSuiteContext {
  /** The running cluster (throws if read outside the suite's hooks and tests). */
  readonly cluster: FlinkCluster;
  /** The test job jars compiled for this version. */
  readonly jars: TestJobJars;
}

/** Time a suite's `before` may take: install (first run), jar build and cluster start. */
export const FLINK_SUITE_SETUP_TIMEOUT_MS = 600_000;

/**
 * Starts one cluster of `version` in `before` (with its test jars) and stops it in `after`. Call
 * it inside a `describe`; read `.cluster` and `.jars` from tests. Starting is slow (15-25 s), so
 * share one cluster per suite and cancel jobs between tests.
 */
export function useFlinkCluster(version: string, options: Omit<FlinkClusterOptions, "version"> = {}): FlinkSuiteContext {
  let cluster: FlinkCluster | undefined;
  let jars: TestJobJars | undefined;
  before(async function () {
    this.timeout(FLINK_SUITE_SETUP_TIMEOUT_MS);
    jars = await buildTestJobJars(version);
    cluster = await startFlinkCluster({ version, ...options });
  });
  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
    cluster = undefined;
  });
  return {
    get cluster() {
      if (!cluster) throw new Error(`No Flink ${version} cluster: useFlinkCluster's before hook has not run or failed`);
      return cluster;
    },
    get jars() {
      if (!jars) throw new Error(`No test jars for Flink ${version}: useFlinkCluster's before hook has not run or failed`);
      return jars;
    },
  };
}
