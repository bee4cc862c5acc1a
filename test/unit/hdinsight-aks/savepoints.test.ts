/** Savepoint lists in whatever framing the cluster uses, and the savepoint check before a START or UPDATE. */
import assert from "node:assert/strict";
import { checkSavepointExists } from "../../../src/backends/hdinsight-aks/savepoint-check";
import { savepointsFromList } from "../../../src/backends/hdinsight-aks/savepoints";
import { CancelledError, JobStateError } from "../../../src/errors";
import { FakeJobsApi, running } from "./fake-jobs-api";

const A = "job-aaa-4aaa-8aaa-aaaaaaaaaaaa";
const DIR = "abfs://state@acct.dfs.core.windows.net/sp";
const SP1 = `${DIR}/savepoint-25e318-111111111111`;
const SP2 = `${DIR}/savepoint-25e318-222222222222`;
const SP3 = `${DIR}/savepoint-25e318-333333333333`;

describe("savepoint lists (LIST_SAVEPOINT's jobOutput, framing undocumented)", () => {
  const framings: [string, string][] = [
    ["one path a line", `${SP1}\n${SP2}`],
    ["a JSON array", JSON.stringify([SP1, SP2])],
    ["comma separated", `${SP1}, ${SP2}`],
    ["'Path:' lines", `Path: ${SP1}\r\nPath: ${SP2}`],
    ["inside prose", `Savepoints of job orders: ${SP1} (2024-05-01); ${SP2}.`],
    ["a JSON object", JSON.stringify({ savepoints: [{ path: SP1 }, { path: SP2 }] })],
  ];
  for (const [framing, text] of framings) {
    it(`finds both savepoints framed as ${framing}`, () => {
      assert.deepEqual(savepointsFromList(text), [SP1, SP2]);
    });
  }

  it("bare savepoint names count; other words do not", () => {
    assert.deepEqual(savepointsFromList("savepoint-25e318-111111111111\nno savepoints here"), ["savepoint-25e318-111111111111"]);
    assert.deepEqual(savepointsFromList("Listing completed."), []);
  });
});

describe("the savepoint check before START or UPDATE", () => {
  const fast = { timeoutMs: 2_000, waitForCompletion: true, maxPollIntervalMs: 5, minPollIntervalMs: 1, operationHeadStartMs: 0 };
  const stopped = running(A, { action: "STOP", status: "STOPPED", lastSavePoint: SP3 });
  const listed = (jobOutput: string) => running(A, { action: "LIST_SAVEPOINT", actionResult: "SUCCESS", status: "STOPPED", lastSavePoint: SP3, jobOutput });
  const logger = () => {
    const lines: string[] = [];
    return { lines, info: (m: string) => void lines.push(m), debug: () => {}, warning: (m: string) => void lines.push(`WARNING ${m}`) };
  };

  it("the job's last savepoint needs no list", async () => {
    const api = new FakeJobsApi([[stopped]]);
    await checkSavepointExists(api, "orders", SP3, fast);
    assert.equal(api.posts.length, 0);
  });

  it("finds an older savepoint in a JSON-framed list, as a step of its own", async () => {
    const api = new FakeJobsApi([[stopped], [stopped], [listed(JSON.stringify([SP1, SP3]))]]);
    const log = logger();
    await checkSavepointExists(api, "orders", "savepoint-25e318-111111111111", { ...fast, logger: log });
    assert.deepEqual(api.posts.map((p) => p.properties.action), ["LIST_SAVEPOINT"]);
    assert.match(log.lines.join("\n"), /Step 1 of 2: checking that job 'orders' has the savepoint savepoint-25e318-111111111111 \(LIST_SAVEPOINT, at most 1 s\)/);
  });

  it("refuses a savepoint missing from a list it could read, naming the ones there", async () => {
    const api = new FakeJobsApi([[stopped], [stopped], [listed(`${SP1}\n${SP3}`)]]);
    await assert.rejects(checkSavepointExists(api, "orders", SP2, fast), (error: Error) => error instanceof JobStateError && error.message.includes(`Its savepoints: ${SP1}, ${SP3}`));
  });

  it("never refuses because the parser found nothing: it warns and goes ahead", async () => {
    const api = new FakeJobsApi([[stopped], [stopped], [listed("3 savepoints (see the Flink dashboard)")]]);
    const log = logger();
    await checkSavepointExists(api, "orders", SP2, { ...fast, logger: log });
    assert.match(log.lines.join("\n"), /WARNING The savepoint list of job 'orders' holds no path this task recognises; going ahead/);
  });

  it("is bounded: a list that never finishes is given up with a warning, within half the step's budget", async () => {
    const api = new FakeJobsApi([[stopped], [stopped], [running(A, { action: "LIST_SAVEPOINT", actionResult: "IN_PROGRESS", status: "STOPPED" })]]);
    const log = logger();
    await checkSavepointExists(api, "orders", SP2, { ...fast, timeoutMs: 400, logger: log });
    assert.match(log.lines.join("\n"), /WARNING Could not list the savepoints of job 'orders' \(Timed out after 0 s waiting for LIST_SAVEPOINT/);
    assert.equal(api.posts.length, 1);
  });

  it("honours cancellation instead of going ahead", async () => {
    const cancel = new AbortController();
    const api = new FakeJobsApi([[stopped], [stopped], (call) => {
      if (call >= 4) cancel.abort(new Error("received SIGTERM"));
      return [running(A, { action: "LIST_SAVEPOINT", actionResult: "IN_PROGRESS", status: "STOPPED" })];
    }]);
    await assert.rejects(checkSavepointExists(api, "orders", SP2, { ...fast, signal: cancel.signal }), CancelledError);
  });

  it("does not make the step wait when the user chose not to", async () => {
    const api = new FakeJobsApi([[stopped]]);
    await checkSavepointExists(api, "orders", SP2, { ...fast, waitForCompletion: false });
    assert.equal(api.posts.length, 0);
  });
});
