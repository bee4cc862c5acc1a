// Mocha support: which Flink versions a run covers, and one real cluster per suite.
import { startFlinkCluster, type FlinkCluster, type FlinkClusterOptions } from "./cluster";
import { buildTestJobJars, type TestJobJars } from "./job";
import { flinkVersionsFrom } from "./versions";

/** Versions under test (env FLINK_VERSIONS; versions.ts says how it is read). */
export function flinkVersionsUnderTest(): string[] {
  return flinkVersionsFrom(process.env.FLINK_VERSIONS);
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

/** Clusters shared by suites for the whole mocha run, keyed by version and options. */
const sharedClusters = new Map<string, Promise<FlinkCluster>>();

// Registered on the root suite when a test file first imports this module: the run's shared
// clusters stop once, after the last suite (Node's exit hook in processes.ts is the backstop).
if (typeof after === "function") {
  after(async function () {
    this.timeout(60_000);
    const clusters = [...sharedClusters.values()];
    sharedClusters.clear();
    await Promise.all(clusters.map(async (started) => (await started.catch(() => undefined))?.stop()));
  });
}

function sharedKey(version: string, options: Omit<FlinkClusterOptions, "version" | "log">): string {
  const sorted = (value: unknown): unknown =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]))
      : value;
  return JSON.stringify(sorted({ version, ...options }));
}

/** Cancels every live job and deletes every uploaded jar: a suite starts on an idle cluster. */
async function clearCluster(cluster: FlinkCluster): Promise<void> {
  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${cluster.restUrl}${route}`);
    if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const live = (await get<{ jobs: { jid: string; state: string }[] }>("/jobs/overview")).jobs
    .filter((job) => !["FINISHED", "CANCELED", "FAILED"].includes(job.state));
  for (const job of live) await fetch(`${cluster.restUrl}/jobs/${job.jid}?mode=cancel`, { method: "PATCH" });
  for (const job of live) {
    for (let i = 0; ; i++) {
      const state = (await get<{ state: string }>(`/jobs/${job.jid}`)).state;
      if (["FINISHED", "CANCELED", "FAILED"].includes(state)) break;
      if (i > 240) throw new Error(`Shared Flink cluster: job ${job.jid} is still ${state} 60 s after its cancel`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const jars = (await get<{ files?: { id: string }[] }>("/jars").catch(() => ({ files: [] }))).files ?? [];
  for (const jar of jars) await fetch(`${cluster.restUrl}/jars/${jar.id}`, { method: "DELETE" });
}

/**
 * Like useFlinkCluster, but the cluster is shared with every other suite of the run that asks
 * for the same version and options: started on first use, stopped after the last suite. Each
 * suite starts on an idle cluster (live jobs cancelled, uploaded jars deleted), but ended jobs of
 * earlier suites stay listed: give jobs names no other suite uses. For suites that do not need a
 * cluster of their own (no JobManager kill, no special config); saves a start (15-50 s) per suite.
 */
export function useSharedFlinkCluster(version: string, options: Omit<FlinkClusterOptions, "version" | "log"> = {}): FlinkSuiteContext {
  let cluster: FlinkCluster | undefined;
  let jars: TestJobJars | undefined;
  before(async function () {
    this.timeout(FLINK_SUITE_SETUP_TIMEOUT_MS);
    jars = await buildTestJobJars(version);
    const key = sharedKey(version, options);
    let started = sharedClusters.get(key);
    if (!started) {
      started = startFlinkCluster({ version, ...options });
      sharedClusters.set(key, started);
      started.catch(() => sharedClusters.delete(key)); // the next suite tries again
    }
    cluster = await started;
    await clearCluster(cluster);
  });
  after(() => {
    cluster = undefined;
  });
  return suiteContext(version, () => cluster, () => jars);
}

function suiteContext(version: string, cluster: () => FlinkCluster | undefined, jars: () => TestJobJars | undefined): FlinkSuiteContext {
  return {
    get cluster() {
      const running = cluster();
      if (!running) throw new Error(`No Flink ${version} cluster: the suite's before hook has not run or failed`);
      return running;
    },
    get jars() {
      const built = jars();
      if (!built) throw new Error(`No test jars for Flink ${version}: the suite's before hook has not run or failed`);
      return built;
    },
  };
}

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
  return suiteContext(version, () => cluster, () => jars);
}
