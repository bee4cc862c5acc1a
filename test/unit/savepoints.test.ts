/**
 * Savepoints as a managed asset, the parts that need no cluster: the inputs (named, before any
 * call), the run body's claim mode per version, the origin a JobID records, the bounded
 * `savepoints` output and its table in the run summary.
 */
import * as assert from "node:assert/strict";
import { flinkRestBackend } from "../../src/backends/flink-rest";
import { parseFlinkVersion, runRequestBody } from "../../src/backends/flink-rest/api";
import { jobTag, newJobId, runOriginOf } from "../../src/backends/flink-rest/identity";
import { validateHdInsightInputs } from "../../src/backends/hdinsight-aks/inputs";
import { InputError } from "../../src/errors";
import type { CommonInputs, JobAction, SavepointEntry } from "../../src/jobs/backend";
import { chooseRemovals } from "../../src/jobs/savepoint-retention";
import { actionOutputs, MAX_JOBS_OUTPUT_CHARS } from "../../src/report/outputs";
import { renderSummary } from "../../src/report/summary";

const common = (action: JobAction, target: CommonInputs["target"] = "flinkRest", deploy = false): CommonInputs => ({
  target,
  jobName: "orders",
  action,
  actionInput: "operation",
  waitForCompletion: true,
  timeoutMs: 60_000,
  maxPollIntervalMs: 1000,
  ...(deploy ? { deploy: true as const } : {}),
});
const flink = (action: JobAction, inputs: Record<string, string>, deploy = false) => flinkRestBackend.validate(common(action, "flinkRest", deploy), (n) => ({ flinkConnection: "c", ...inputs })[n]);
const refused = (run: () => unknown, input: string, message?: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof InputError && e.input === input && (!message || message.test(e.message)));

describe("savepoints: inputs", () => {
  it("savepointFormat and restoreMode map to Flink's formatType and claim mode, canonical and noClaim by default", () => {
    assert.equal(flink("STOP", {}).savepointFormat, "CANONICAL");
    assert.equal(flink("SAVEPOINT", { savepointFormat: "native" }).savepointFormat, "NATIVE");
    assert.equal(flink("START", {}).claimMode, "NO_CLAIM");
    assert.equal(flink("UPDATE", { restoreMode: "claim" }).claimMode, "CLAIM");
    assert.equal(flink("CANCEL", { savepointFormat: "native" }).savepointFormat, undefined, "not read where nothing is written");
    refused(() => flink("STOP", { savepointFormat: "binary" }), "savepointFormat");
    refused(() => flink("START", { restoreMode: "legacy" }), "restoreMode");
  });

  it("Deploy refuses restoreMode claim while a rollback may need the pre-upgrade savepoint", () => {
    refused(() => flink("NEW", { jarFile: "a.jar", restoreMode: "claim" }, true), "restoreMode", /rollback/);
    assert.equal(flink("NEW", { jarFile: "a.jar", restoreMode: "claim", rollbackOnFailure: "false" }, true).claimMode, "CLAIM");
    assert.deepEqual(flink("NEW", { jarFile: "a.jar", retainSavepoints: "3" }, true).retention, { keepLast: 3 });
    assert.equal(flink("NEW", { jarFile: "a.jar" }, true).retention, undefined, "empty retainSavepoints keeps all");
    refused(() => flink("NEW", { jarFile: "a.jar", retainSavepoints: "many" }, true), "retainSavepoints");
  });

  it("dispose needs savepointName; prune takes keepLast (default 5) and maxAgeDays", () => {
    refused(() => flink("DISPOSE_SAVEPOINT", {}), "savepointName", /dispose/);
    assert.equal(flink("DISPOSE_SAVEPOINT", { savepointName: "savepoint-493dc1-c5b00e42edc2" }).savepointName, "savepoint-493dc1-c5b00e42edc2");
    assert.deepEqual(flink("PRUNE_SAVEPOINTS", {}).retention, { keepLast: 5 });
    assert.deepEqual(flink("PRUNE_SAVEPOINTS", { keepLast: "2", maxAgeDays: "30" }).retention, { keepLast: 2, maxAgeDays: 30 });
    refused(() => flink("PRUNE_SAVEPOINTS", { keepLast: "-1" }), "keepLast");
    refused(() => flink("PRUNE_SAVEPOINTS", { maxAgeDays: "0" }), "maxAgeDays");
  });

  it("HDInsight on AKS refuses savepointFormat and restoreMode: the service has no such switch", () => {
    const raw = (extra: Record<string, string>) => (n: string) => ({ resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1", ...extra })[n];
    refused(() => validateHdInsightInputs(common("STOP", "hdinsightAks"), raw({ savepointFormat: "native" })), "savepointFormat", /no such switch/);
    refused(() => validateHdInsightInputs(common("START", "hdinsightAks"), raw({ restoreMode: "claim" })), "restoreMode", /no such switch/);
    // prune and retainSavepoints take the same retention inputs as on Apache Flink.
    assert.deepEqual(validateHdInsightInputs(common("PRUNE_SAVEPOINTS", "hdinsightAks"), raw({})).retention, { keepLast: 5 });
    assert.deepEqual(validateHdInsightInputs(common("PRUNE_SAVEPOINTS", "hdinsightAks"), raw({ keepLast: "2", maxAgeDays: "30" })).retention, { keepLast: 2, maxAgeDays: 30 });
    refused(() => validateHdInsightInputs(common("PRUNE_SAVEPOINTS", "hdinsightAks"), raw({ maxAgeDays: "0" })), "maxAgeDays");
    // The agent sends the defaults of hidden inputs: they are what the service does, and pass.
    assert.doesNotThrow(() => validateHdInsightInputs(common("STOP", "hdinsightAks"), raw({ savepointFormat: "canonical", restoreMode: "noClaim" })));
  });
});

describe("savepoints: what a prune removes (both targets)", () => {
  const DAY = 86_400_000;
  const now = Date.UTC(2026, 0, 31);
  // Newest first: a (today), b (2 days), c (10 days), d (40 days), e (41 days).
  const entries = [0, 2, 10, 40, 41].map((days, i) => ({ name: "abcde"[i]!, millis: now - days * DAY }));
  const names = (list: Array<{ name: string }>) => list.map((e) => e.name).join("");

  it("beyond the newest keepLast, never a protected one", () => {
    assert.equal(names(chooseRemovals(entries, new Map(), { keepLast: 2 }, now)), "cde");
    assert.equal(names(chooseRemovals(entries, new Map([["d", "restored from"]]), { keepLast: 2 }, now)), "ce");
    assert.equal(names(chooseRemovals(entries, new Map([["a", "newest"]]), { keepLast: 0 }, now)), "bcde");
  });

  it("maxAgeDays also removes older ones among the newest keepLast, but not a protected one", () => {
    assert.equal(names(chooseRemovals(entries, new Map(), { keepLast: 10, maxAgeDays: 30 }, now)), "de");
    assert.equal(names(chooseRemovals(entries, new Map([["e", "restored from"]]), { keepLast: 10, maxAgeDays: 5 }, now)), "cd");
    assert.equal(names(chooseRemovals(entries, new Map(), { keepLast: 10, maxAgeDays: 365 }, now)), "");
  });
});

describe("savepoints: what Flink is sent and what a JobID records", () => {
  it("claimMode (1.20 and 2.x) or restoreMode (before 1.20) carries the claim mode asked for", () => {
    const spec = { jobId: "a".repeat(32), args: [], savepointPath: "file:///sp/savepoint-1", claimMode: "CLAIM" as const, flinkConfiguration: {} };
    assert.equal(runRequestBody(parseFlinkVersion("1.20.5")!, spec)["claimMode"], "CLAIM");
    assert.equal(runRequestBody(parseFlinkVersion("2.3.0")!, spec)["claimMode"], "CLAIM");
    assert.equal(runRequestBody(parseFlinkVersion("1.19.1")!, spec)["restoreMode"], "CLAIM");
  });

  it("a JobID keeps the job's tag and the action that started the execution", () => {
    const id = newJobId("orders", {}, "deploy");
    assert.match(id, new RegExp(`^${jobTag("orders")}[0-9a-f]{24}$`));
    assert.equal(runOriginOf(id), "deploy");
    assert.equal(runOriginOf(newJobId("orders", {}, "update")), "update");
    assert.equal(runOriginOf(`${jobTag("orders")}${"0".repeat(24)}`), undefined);
  });
});

describe("savepoints: the output and the run summary", () => {
  const entry = (i: number): SavepointEntry => ({
    path: `abfss://state@acct.dfs.core.windows.net/savepoints/savepoint-493dc1-${String(i).padStart(12, "0")}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    origin: i % 2 ? "trigger" : "stop",
    jobId: "493dc1".padEnd(32, "0"),
    restoredByLive: i === 0,
  });

  it("savepoints is a JSON array of whole records within the limit; savepointCount counts them all", () => {
    const many = Array.from({ length: 2000 }, (_, i) => entry(i));
    const outputs = actionOutputs({ actionResult: "SUCCESS", savepoints: many }, "orders");
    assert.ok(outputs.savepoints!.length <= MAX_JOBS_OUTPUT_CHARS);
    const parsed = JSON.parse(outputs.savepoints!) as SavepointEntry[];
    assert.ok(parsed.length > 100 && parsed.length < 2000);
    assert.deepEqual(parsed[0], many[0]);
    assert.equal(outputs.savepointCount, "2000");
  });

  it("the summary shows a table of the savepoints, and says when the list holds fewer than savepointCount", () => {
    const outputs = actionOutputs({ actionResult: "SUCCESS", savepoints: [entry(0), entry(1)] }, "orders");
    const md = renderSummary({ task: "FlinkSavepoint", action: "LIST_SAVEPOINT", where: [], durationMs: 1000, outputs });
    assert.match(md, /\| Path \| Time \| Origin \| Execution \| Restored by the live job \|/);
    assert.match(md, /\| `abfss:\/\/state@acct\.dfs\.core\.windows\.net\/savepoints\/savepoint-493dc1-000000000000` \| 2026-01-01T00:00:00\.000Z \| stop \| `493dc10+` \| yes \|/);
    assert.match(md, /\| trigger \| `493dc1/);
    const cut = renderSummary({ task: "FlinkSavepoint", where: [], durationMs: 1000, outputs: { ...outputs, savepointCount: "90" } });
    assert.match(cut, /and 88 more/);
  });
});
