// The test bed's public API in one import: `import { startFlinkCluster, … } from "../../testbed/flink"`.
export { startFlinkCluster, freePort, type FlinkCluster, type FlinkClusterOptions, type FlinkConfigValue } from "./cluster";
export { installFlink, isFlinkInstalled, flinkCacheRoot, flinkHomePath, REPO_ROOT, type InstallOptions } from "./install";
export { buildTestJobJars, TEST_JOB_ENTRY_CLASS, type TestJobJars } from "./job";
export { flinkVersionsUnderTest, useFlinkCluster, useSharedFlinkCluster, FLINK_SUITE_SETUP_TIMEOUT_MS, type FlinkSuiteContext } from "./mocha";
export { CI_FLINK_VERSIONS, SUPPORTED_FLINK_VERSIONS, flinkMajor } from "./versions";
