import assert from "node:assert/strict";
import { startEmulator } from "../../emulator/index";
import { actionBody, armToken, emulatorSuite, jobsNamed, latest, newJobBody, request, runJob, runToEnd, uniqueName, V2024 } from "./helpers";

const STATUSES = ["RUNNING", "STOPPED", "CANCELED", "FAILED", "JOB_LAUNCH_FAILED"];
const ALL = STATUSES;
/** Expected validity, written out independently of the emulator's own table. */
const VALID: Record<string, string[]> = {
  STOP: ["RUNNING"],
  SAVEPOINT: ["RUNNING"],
  CANCEL: ["RUNNING"],
  START: ["STOPPED", "CANCELED", "FAILED", "JOB_LAUNCH_FAILED"],
  UPDATE: ALL,
  STATELESS_UPDATE: ALL,
  RE_LAUNCH: ALL,
  LIST_SAVEPOINT: ALL,
  LAST_STATE_UPDATE: ["RUNNING", "STOPPED", "CANCELED", "FAILED"],
  DELETE: ["STOPPED", "CANCELED", "FAILED", "JOB_LAUNCH_FAILED"],
};

describe("emulator: Flink job state machine", () => {
  const suite = emulatorSuite();

  function seed(status: string): string {
    const jobName = uniqueName(status.toLowerCase().replace(/_/g, "-"));
    const sp = "abfs://sp@acct.dfs.core.windows.net/sp/savepoint-abcdef-0123456789ab";
    suite.em.jobs.seed({
      jobName,
      jobJarDirectory: suite.em.knownJar.jobJarDirectory,
      jarName: suite.em.knownJar.jarName,
      entryClass: suite.em.knownJar.entryClass,
      flinkConfiguration: { parallelism: "1" },
      action: "NEW",
      actionResult: "SUCCESS",
      status,
      ...(status === "RUNNING" ? { jobId: "abcdef0123456789abcdef0123456789" } : {}),
      ...(status === "STOPPED" ? { lastSavePoint: sp } : {}),
    });
    return jobName;
  }

  describe("table: which action is valid in which status (GUESS beyond STOP/SAVEPOINT/CANCEL needing RUNNING and START needing not RUNNING)", () => {
    for (const [action, valid] of Object.entries(VALID)) {
      for (const status of STATUSES) {
        const ok = valid.includes(status);
        it(`${action} on a ${status} job ${ok ? "succeeds" : "is accepted, then ends FAILED with the reason"}`, async () => {
          const name = seed(status);
          const post = await runJob(suite.em, suite.token, actionBody(name, action));
          assert.equal(post.status, 202, post.text);
          suite.em.clock.advance(60_000);
          const recs = await jobsNamed(suite.em, suite.token, name);
          if (action === "DELETE" && ok) {
            assert.equal(recs.length, 0, "GUESS deleteRemovesRecord: the record is gone");
            return;
          }
          const p = recs.at(-1).properties;
          assert.equal(p.action, action, "action = last action applied");
          assert.equal(p.actionResult, ok ? "SUCCESS" : "FAILED", p.jobOutput);
          if (!ok) {
            assert.equal(p.status, status, "an invalid action leaves the status");
            assert.match(p.jobOutput, new RegExp(`${action} is not allowed .* status ${status}`));
          }
        });
      }
    }
  });

  it("the stale window: the previous result for staleWindowMs, then IN_PROGRESS, then the result after actionDurationMs", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    assert.equal((await runJob(suite.em, suite.token, actionBody(name, "STOP"))).status, 202);
    let p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.action, p.actionResult, p.status], ["NEW", "SUCCESS", "RUNNING"], "stale: still the NEW's result");
    suite.em.clock.advance(2_100); // default staleWindowMs 2000
    p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.action, p.actionResult, p.status], ["STOP", "IN_PROGRESS", "RUNNING"]);
    assert.equal(p.jobOutput, undefined, "GUESS inProgressJobOutput=omit");
    suite.em.clock.advance(5_000); // STOP takes 6000 by default
    assert.equal((await latest(suite.em, suite.token, name)).properties.actionResult, "IN_PROGRESS");
    suite.em.clock.advance(1_000);
    p = (await latest(suite.em, suite.token, name)).properties;
    assert.deepEqual([p.action, p.actionResult, p.status], ["STOP", "SUCCESS", "STOPPED"]);
  });

  it("REAL: a NEW has no record during the stale window, then IN_PROGRESS for 12 s (the recorded NEW duration)", async () => {
    const name = uniqueName();
    await runJob(suite.em, suite.token, newJobBody(suite.em, name));
    assert.equal((await jobsNamed(suite.em, suite.token, name)).length, 0);
    suite.em.clock.advance(2_000);
    let p = (await latest(suite.em, suite.token, name)).properties;
    assert.equal(p.actionResult, "IN_PROGRESS");
    assert.equal(p.jobId, undefined);
    assert.equal(p.status, undefined);
    // The virtual clock also runs with the wall clock: keep half a second for the requests.
    suite.em.clock.advance(11_500);
    assert.equal((await latest(suite.em, suite.token, name)).properties.actionResult, "IN_PROGRESS");
    suite.em.clock.advance(500);
    p = (await latest(suite.em, suite.token, name)).properties;
    assert.equal(p.actionResult, "SUCCESS");
  });

  it("staleWindowMs and actionDurationMs are configurable; timeScale runs time faster", async () => {
    const fast = await startEmulator({ staleWindowMs: 0, actionDurationMs: { NEW: 40 }, timeScale: 10 });
    try {
      const t = await armToken(fast);
      const name = uniqueName();
      await runJob(fast, t, newJobBody(fast, name));
      await new Promise((r) => setTimeout(r, 20)); // 200 virtual ms > 40
      assert.equal((await latest(fast, t, name)).properties.actionResult, "SUCCESS");
    } finally {
      await fast.close();
    }
  });

  it("SAVEPOINT keeps RUNNING, adds a savepoint and updates lastSavePoint; LIST_SAVEPOINT lists them one per line (GUESS)", async () => {
    const name = uniqueName();
    const jobId = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties.jobId as string;
    const a = (await runToEnd(suite.em, suite.token, actionBody(name, "SAVEPOINT"))).properties;
    assert.equal(a.status, "RUNNING");
    assert.equal(a.jobId, jobId);
    assert.match(a.lastSavePoint, new RegExp(`/savepoint-${jobId.slice(0, 6)}-[0-9a-f]{12}$`));
    assert.equal(a.jobOutput, `Savepoint completed. Path: ${a.lastSavePoint}`);
    assert.ok(a.lastSavePoint.startsWith(`abfs://flink@flinkemulatorstore.dfs.core.windows.net/${suite.em.cluster}/savepoints/`), "GUESS defaultSavepointDirectory");
    const b = (await runToEnd(suite.em, suite.token, actionBody(name, "SAVEPOINT"))).properties;
    assert.notEqual(b.lastSavePoint, a.lastSavePoint);
    const l = (await runToEnd(suite.em, suite.token, actionBody(name, "LIST_SAVEPOINT"))).properties;
    assert.equal(l.actionResult, "SUCCESS");
    assert.equal(l.jobOutput, `${a.lastSavePoint}\n${b.lastSavePoint}`);
    assert.deepEqual(suite.em.jobs.savepoints(name), [a.lastSavePoint, b.lastSavePoint]);
  });

  it("START after STOP restores from the last savepoint with a new jobId; START with an unknown savePointName ends FAILED naming it", async () => {
    const name = uniqueName();
    const first = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties;
    const stopped = (await runToEnd(suite.em, suite.token, actionBody(name, "STOP"))).properties;
    const bad = (await runToEnd(suite.em, suite.token, actionBody(name, "START", { savePointName: "savepoint-000000-000000000000" }))).properties;
    assert.equal(bad.actionResult, "FAILED");
    assert.equal(bad.status, "STOPPED");
    assert.match(bad.jobOutput, /savepoint-000000-000000000000/);
    const byName = stopped.lastSavePoint.slice(stopped.lastSavePoint.lastIndexOf("/") + 1);
    const started = (await runToEnd(suite.em, suite.token, actionBody(name, "START", { savePointName: byName }))).properties;
    assert.deepEqual([started.status, started.actionResult, started.jobOutput], ["RUNNING", "SUCCESS", "Flink internal job status : RUNNING"]);
    assert.notEqual(started.jobId, first.jobId);
    assert.match(started.jobId, /^[0-9a-f]{32}$/);
    // A full path works as well.
    await runToEnd(suite.em, suite.token, actionBody(name, "STOP"));
    assert.equal((await runToEnd(suite.em, suite.token, actionBody(name, "START", { savePointName: stopped.lastSavePoint }))).properties.actionResult, "SUCCESS");
  });

  it("UPDATE restarts with the new args and jar (stateful: a savepoint first); an unknown jar ends JOB_LAUNCH_FAILED", async () => {
    const name = uniqueName();
    suite.em.storage.addJar("abfs://jars@acct.dfs.core.windows.net/v2", "app-2.0.jar");
    const first = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties;
    const up = (await runToEnd(suite.em, suite.token, actionBody(name, "UPDATE", { args: "--mode fast", jobJarDirectory: "abfs://jars@acct.dfs.core.windows.net/v2", jarName: "app-2.0.jar" }))).properties;
    assert.deepEqual([up.status, up.actionResult, up.args, up.jarName], ["RUNNING", "SUCCESS", "--mode fast", "app-2.0.jar"]);
    assert.notEqual(up.jobId, first.jobId);
    assert.match(up.lastSavePoint, new RegExp(`savepoint-${first.jobId.slice(0, 6)}-`));
    const su = (await runToEnd(suite.em, suite.token, actionBody(name, "STATELESS_UPDATE", { args: "--x" }))).properties;
    assert.deepEqual([su.status, su.actionResult, su.args], ["RUNNING", "SUCCESS", "--x"]);
    assert.equal(su.lastSavePoint, up.lastSavePoint, "stateless: no new savepoint");
    const bad = (await runToEnd(suite.em, suite.token, actionBody(name, "UPDATE", { jarName: "gone.jar" }))).properties;
    assert.deepEqual([bad.status, bad.actionResult, bad.jobOutput], ["JOB_LAUNCH_FAILED", "FAILED", "Job execution failed. \nFailed to download jar"]);
  });

  it("LAST_STATE_UPDATE and RE_LAUNCH restart the job with a new jobId", async () => {
    const name = uniqueName();
    const a = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties;
    const b = (await runToEnd(suite.em, suite.token, actionBody(name, "LAST_STATE_UPDATE"))).properties;
    assert.deepEqual([b.status, b.actionResult], ["RUNNING", "SUCCESS"]);
    assert.notEqual(b.jobId, a.jobId);
    const c = (await runToEnd(suite.em, suite.token, actionBody(name, "RE_LAUNCH"))).properties;
    assert.deepEqual([c.status, c.actionResult], ["RUNNING", "SUCCESS"]);
    assert.notEqual(c.jobId, b.jobId);
  });

  it("GUESS cancelStatus: CANCEL leaves CANCELED; DELETE then removes the record (deleteRemovesRecord)", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    const c = (await runToEnd(suite.em, suite.token, actionBody(name, "CANCEL"))).properties;
    assert.deepEqual([c.status, c.actionResult], ["CANCELED", "SUCCESS"]);
    await runJob(suite.em, suite.token, actionBody(name, "DELETE"));
    suite.em.clock.advance(2_500);
    assert.equal((await latest(suite.em, suite.token, name)).properties.action, "DELETE", "visible while IN_PROGRESS");
    suite.em.clock.advance(60_000);
    assert.equal((await jobsNamed(suite.em, suite.token, name)).length, 0);
  });

  it("GUESS switches: cancelStatus, deleteRemovesRecord=false, deleteRunningJob=allow, listSavepointFormat=json", async () => {
    const alt = await startEmulator({ guesses: { cancelStatus: "CANCELLED", deleteRemovesRecord: false, deleteRunningJob: "allow", listSavepointFormat: "json" } });
    try {
      const t = await armToken(alt);
      const name = uniqueName();
      await runToEnd(alt, t, newJobBody(alt, name));
      const sp = (await runToEnd(alt, t, actionBody(name, "SAVEPOINT"))).properties.lastSavePoint;
      assert.equal((await runToEnd(alt, t, actionBody(name, "LIST_SAVEPOINT"))).properties.jobOutput, JSON.stringify([sp]));
      const d = (await runToEnd(alt, t, actionBody(name, "DELETE"))).properties;
      assert.deepEqual([d.status, d.actionResult], ["DELETED", "SUCCESS"]);
      const other = uniqueName();
      await runToEnd(alt, t, newJobBody(alt, other));
      assert.equal((await runToEnd(alt, t, actionBody(other, "CANCEL"))).properties.status, "CANCELLED");
    } finally {
      await alt.close();
    }
  });

  it("other actions act on the latest record of a name; ≥2023-11 a runId picks the record", async () => {
    const name = uniqueName();
    const older = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties;
    const newer = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name))).properties;
    await runToEnd(suite.em, suite.token, actionBody(name, "STOP"));
    let recs = await jobsNamed(suite.em, suite.token, name);
    assert.deepEqual(recs.map((r) => r.properties.status), ["RUNNING", "STOPPED"]);
    assert.equal(recs[1].properties.runId, newer.runId);
    await runToEnd(suite.em, suite.token, actionBody(name, "STOP", { runId: older.runId }));
    recs = await jobsNamed(suite.em, suite.token, name);
    assert.deepEqual(recs.map((r) => r.properties.status), ["STOPPED", "STOPPED"]);
  });

  it("NEW may carry its own runId (≥2023-11); a runId in use → 400", async () => {
    const name = uniqueName();
    const runId = "job-abc-1234-5678-0123456789ab".replace("abc", Math.random().toString(16).slice(2, 5));
    const p = (await runToEnd(suite.em, suite.token, newJobBody(suite.em, name, { runId }))).properties;
    assert.equal(p.runId, runId);
    const again = await runJob(suite.em, suite.token, newJobBody(suite.em, name, { runId }));
    assert.equal(again.status, 400);
    assert.equal(again.json.error.target, "properties.runId");
  });

  it("GUESS concurrentAction=conflict: an action posted while another is in flight → 409 Conflict naming it", async () => {
    const name = uniqueName();
    await runToEnd(suite.em, suite.token, newJobBody(suite.em, name));
    assert.equal((await runJob(suite.em, suite.token, actionBody(name, "STOP"))).status, 202);
    const second = await runJob(suite.em, suite.token, actionBody(name, "SAVEPOINT"));
    assert.equal(second.status, 409);
    assert.equal(second.json.error.code, "Conflict");
    assert.match(second.json.error.message, /STOP/);
    suite.em.clock.advance(60_000);
    assert.equal((await runJob(suite.em, suite.token, actionBody(name, "START"))).status, 202, "free again once done");
  });

  it("GUESS concurrentAction=operationFailed: 202, then the operation ends Failed (Conflict) and the record is untouched", async () => {
    const alt = await startEmulator({ guesses: { concurrentAction: "operationFailed" } });
    try {
      const t = await armToken(alt);
      const name = uniqueName();
      await runToEnd(alt, t, newJobBody(alt, name));
      await runJob(alt, t, actionBody(name, "STOP"));
      const second = await runJob(alt, t, actionBody(name, "SAVEPOINT"));
      assert.equal(second.status, 202);
      alt.clock.advance(60_000);
      const op = await request(alt, "GET", second.headers["location"] as string, { token: t });
      assert.equal(op.json.status, "Failed");
      assert.equal(op.json.error.code, "Conflict");
      assert.equal((await latest(alt, t, name)).properties.action, "STOP");
    } finally {
      await alt.close();
    }
  });

  it("GUESS missingJob=operationFailed: an action on a job that does not exist → 202, then operation Failed with JobNotFound", async () => {
    const r = await runJob(suite.em, suite.token, actionBody(uniqueName("ghost"), "STOP"));
    assert.equal(r.status, 202);
    suite.em.clock.advance(5_000);
    const op = await request(suite.em, "GET", r.headers["location"] as string, { token: suite.token });
    assert.equal(op.status, 200);
    assert.equal(op.json.status, "Failed");
    assert.equal(op.json.error.code, "JobNotFound");
    assert.ok(op.json.endTime);
  });

  it("GUESS missingJob=notFound: the POST itself answers 404", async () => {
    const alt = await startEmulator({ guesses: { missingJob: "notFound" } });
    try {
      const r = await runJob(alt, await armToken(alt), actionBody(uniqueName("ghost"), "STOP"));
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, "JobNotFound");
    } finally {
      await alt.close();
    }
  });

  it("GUESS badOperationSignatureStatus: a tampered or rebuilt operation URL is refused", async () => {
    const r = await runJob(suite.em, suite.token, newJobBody(suite.em, uniqueName()));
    const loc = new URL(r.headers["location"] as string);
    const rebuilt = `${loc.origin}${loc.pathname}?api-version=${V2024}`;
    const a = await request(suite.em, "GET", rebuilt, { token: suite.token });
    assert.equal(a.status, 400);
    assert.equal(a.json.error.code, "InvalidOperationStatusSignature");
    loc.searchParams.set("api-version", "2023-11-01-preview");
    assert.equal((await request(suite.em, "GET", loc.toString(), { token: suite.token })).status, 400);
  });
});
