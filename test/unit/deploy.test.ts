/**
 * The deploy orchestrator (src/jobs/deploy.ts) against a fake target, in milliseconds: each
 * decision, the health gate's outcomes, rollback and its failure, a cancel mid-upgrade.
 */
import * as assert from "node:assert/strict";
import { CancelledError, InputError } from "../../src/errors";
import { executeTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";
import { fakeHost } from "../flink-rest/helpers";
import { type DeployInputs, type DeployTarget, deploy, type Health, type LocalJar, validateDeployInputs } from "../../src/jobs/deploy";
import { decide } from "../../src/jobs/decide";
import type { JobRecord } from "../../src/jobs/record";

const JAR: LocalJar = { path: "/w/app.jar", size: 10, sha256: "a".repeat(64) };
const INPUTS: DeployInputs = { upgradeMode: "savepoint", healthCheckSeconds: 5, rollbackOnFailure: true, dryRun: false };
const HEALTHY = { healthy: true, evidence: "job RUNNING (tasks: 2 RUNNING), no failure in the last 60 s" };
const SICK = { healthy: false, evidence: "job RESTARTING (tasks: 2 CANCELING); 6 failure(s) in the last 60 s" };
/** A live execution that runs `sha` with settings `settings`. */
const liveOn = (sha: string, settings = "S", health = HEALTHY): Partial<JobRecord> => ({ live: true, artifact: { sha256: sha, settings }, health, job: { jobName: "orders", jobId: "old1", jobStatus: health.healthy ? "RUNNING" : "RESTARTING" } });

interface FakeOptions {
  state: Partial<JobRecord>;
  health?: Health;
  rollbackFails?: string;
  upgradeThrows?: Error;
  savepoint?: string;
}

function fakeTarget(o: FakeOptions): DeployTarget & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    wantedSettings: "S",
    read: async () => {
      calls.push("read");
      return { live: false, job: { jobName: "orders" }, rollbackPossible: true, ...o.state };
    },
    upload: async () => {
      calls.push("upload");
      return { jarId: "new.jar" };
    },
    submit: async (restoreFrom) => {
      calls.push(`submit${restoreFrom ? `:${restoreFrom}` : ""}`);
      return { job: { jobName: "orders", jobId: "new1", jobStatus: "INITIALIZING" } };
    },
    upgrade: async (mode, onStopped) => {
      calls.push(`upgrade:${mode}`);
      onStopped(o.savepoint ?? "file:///sp/savepoint-1");
      if (o.upgradeThrows) throw o.upgradeThrows;
      return { job: { jobName: "orders", jobId: "new1", jobStatus: "INITIALIZING" } };
    },
    health: async (started, seconds) => {
      calls.push(`health:${seconds}:${started.job.jobId}`);
      if (started.job.jobId === "old2") return { healthy: true, seen: "RUNNING for 5 s", job: { ...started.job, jobStatus: "RUNNING" } };
      return o.health ?? { healthy: true, seen: "RUNNING for 5 s", job: { ...started.job, jobStatus: "RUNNING" } };
    },
    rollback: async (_f, savepoint) => {
      calls.push(`rollback:${savepoint}`);
      if (o.rollbackFails) throw new Error(o.rollbackFails);
      return { job: { jobName: "orders", jobId: "old2", jobStatus: "INITIALIZING" } };
    },
    commit: async () => {
      calls.push("commit");
    },
    whereNow: async () => {
      calls.push("whereNow");
      return "execution new1 is RESTARTING";
    },
    remainingMs: () => 180_000,
  };
}

const log = { info: () => undefined, warning: () => undefined };
const failing: Health = { healthy: false, report: "the job left RUNNING: job RESTARTING (JobID new1); newest: RuntimeException: boom", job: { jobName: "orders", jobId: "new1", jobStatus: "RESTARTING" } };

describe("decide (the record alone, no network)", () => {
  const wanted = { sha256: JAR.sha256, settings: "S" };
  const options = { upgradeMode: "savepoint" as const, rollbackOnFailure: true };
  const record = (r: Partial<JobRecord>): JobRecord => ({ live: false, job: { jobName: "orders" }, rollbackPossible: true, ...r });
  it("unchanged only when the live execution runs this jar with these settings and is healthy", () => {
    assert.equal(decide(record(liveOn(JAR.sha256.slice(0, 8))), wanted, options).word, "unchanged");
    assert.equal(decide(record(liveOn(JAR.sha256.slice(0, 8), "S", SICK)), wanted, options).word, "repair");
    assert.equal(decide(record(liveOn(JAR.sha256.slice(0, 8), "T")), wanted, options).word, "upgrade");
    assert.equal(decide(record(liveOn("b".repeat(8))), wanted, options).word, "upgrade");
    assert.equal(decide(record({ ...liveOn("b".repeat(8)), artifact: {} }), wanted, options).word, "upgrade");
  });
  it("an upgrade rolls back to the artifact the live execution runs; a repair has none; rollbackOnFailure false has none", () => {
    assert.deepEqual(decide(record(liveOn("b".repeat(8))), wanted, options).rollbackTo, { sha256: "bbbbbbbb", settings: "S" });
    assert.equal(decide(record(liveOn(JAR.sha256.slice(0, 8), "S", SICK)), wanted, options).rollbackTo, undefined);
    assert.equal(decide(record(liveOn("b".repeat(8))), wanted, { ...options, rollbackOnFailure: false }).rollbackTo, undefined);
  });
  it("not live: restore from the last savepoint or retained checkpoint unless stateless", () => {
    const ended = record({ job: { jobName: "orders", jobId: "j1", jobStatus: "FAILED" }, lastSnapshot: { path: "s3://b/chk-7", kind: "checkpoint", jobId: "j1" } });
    assert.equal(decide(ended, wanted, options).restoreFrom?.path, "s3://b/chk-7");
    assert.equal(decide(ended, wanted, { ...options, upgradeMode: "stateless" }).restoreFrom, undefined);
    assert.equal(decide(ended, wanted, options).word, "submit");
  });
});

describe("deploy orchestrator (fake target)", () => {
  it("not running → upload, submit, health, commit: submitted", async () => {
    const t = fakeTarget({ state: { live: false } });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "submit", "health:5:new1", "commit"]);
    assert.equal(out.job?.jobStatus, "RUNNING", "jobStatus is the last state observed, not INITIALIZING");
    assert.equal(out.deployAction, "submitted");
    assert.equal(out.actionResult, "SUCCESS");
    assert.equal(out.jarSha256, JAR.sha256);
    assert.equal(out.jarId, "new.jar");
  });

  it("same SHA-256 and same settings while live → unchanged, nothing uploaded", async () => {
    const t = fakeTarget({ state: liveOn(JAR.sha256.slice(0, 8)) });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read"]);
    assert.match(out.notes!.join("\n"), /Plan for job 'orders': unchanged .*no failure in the last 60 s/);
    assert.equal(out.deployAction, "unchanged");
    assert.equal(out.actionResult, "SUCCESS");
  });

  it("same jar, other settings → upgrade; another jar → upgrade in the chosen mode", async () => {
    const t1 = fakeTarget({ state: liveOn(JAR.sha256, "OTHER") });
    assert.equal((await deploy(t1, JAR, INPUTS, "orders", log)).deployAction, "upgraded");
    const t2 = fakeTarget({ state: liveOn("b".repeat(8)) });
    const out = await deploy(t2, JAR, { ...INPUTS, upgradeMode: "lastState" }, "orders", log);
    assert.deepEqual(t2.calls, ["read", "upload", "upgrade:lastState", "health:5:new1", "commit"]);
    assert.equal(out.previousSavepoint, "file:///sp/savepoint-1");
  });

  it("a failed health check after an upgrade rolls back from the pre-upgrade savepoint and fails saying so", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)), health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "upgrade:savepoint", "health:5:new1", "rollback:file:///sp/savepoint-1", "health:5:old2"]);
    assert.equal(out.actionResult, "FAILED");
    assert.equal(out.deployAction, "rolledBack");
    assert.equal(out.job?.jobId, "old2");
    assert.match(out.failure!, /failed its health check: .*RESTARTING.*boom/);
    assert.match(out.failure!, /Rolled back: the previous version runs again \(JobID old2, RUNNING\), restored from savepoint file:\/\/\/sp\/savepoint-1/);
  });

  it("rollbackOnFailure false: fails, the new version left, naming the savepoint with the last good state", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)), health: failing });
    const out = await deploy(t, JAR, { ...INPUTS, rollbackOnFailure: false }, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback")));
    assert.equal(out.actionResult, "FAILED");
    assert.equal(out.deployAction, "upgraded");
    assert.match(out.failure!, /rollbackOnFailure is false: the new version is left as it is\. Where the job stands: execution new1 is RESTARTING\. Savepoint file:\/\/\/sp\/savepoint-1 holds the last good state/);
  });

  it("a failing rollback says where the job stands and which savepoint holds the last good state", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)), health: failing, rollbackFails: "the previous version did not start again: FAILED" });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.equal(out.actionResult, "FAILED");
    assert.notEqual(out.deployAction, "rolledBack");
    assert.match(out.failure!, /The rollback failed too: the previous version did not start again: FAILED\. Where the job stands: execution new1 is RESTARTING\. Savepoint file:\/\/\/sp\/savepoint-1 holds the last good state/);
  });

  it("a failing first submit is not rolled back (there is nothing to go back to)", async () => {
    const t = fakeTarget({ state: { live: false }, health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback") || c === "commit"));
    assert.equal(out.actionResult, "FAILED");
    assert.match(out.failure!, /no healthy previous version to roll back to/);
  });

  it("the previous jar no longer known: fails without a rollback, saying why", async () => {
    const t = fakeTarget({ state: { ...liveOn("b".repeat(8)), rollbackPossible: false, rollbackImpossibleBecause: "the cluster no longer has the jar" }, health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback")));
    assert.match(out.failure!, /cannot be rolled back: the cluster no longer has the jar: the new version is left as it is\. Where the job stands: .*\. Savepoint file:\/\/\/sp\/savepoint-1/);
  });

  it("cancelled after the old version stopped: a CancelledError that says where the job stands and names the savepoint", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)), upgradeThrows: new CancelledError("The pipeline was cancelled while starting the new version") });
    await assert.rejects(deploy(t, JAR, INPUTS, "orders", log), (error: unknown) => {
      assert.ok(error instanceof CancelledError);
      const deployed = (error as CancelledError & { deploy?: { previousSavepoint?: string } }).deploy;
      assert.match(error.message, /cancelled while starting the new version\. Where the job stands: execution new1 is RESTARTING\. Savepoint file:\/\/\/sp\/savepoint-1 holds the last good state/);
      assert.equal(deployed?.previousSavepoint, "file:///sp/savepoint-1");
      return true;
    });
    assert.ok(t.calls.includes("whereNow"));
  });

  it("the live execution runs this jar with these settings but is not healthy → repaired (restarted from its retained state), never unchanged", async () => {
    const t = fakeTarget({ state: liveOn(JAR.sha256.slice(0, 8), "S", SICK) });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "upgrade:lastState", "health:5:new1", "commit"]);
    assert.equal(out.deployAction, "repaired");
    assert.equal(out.actionResult, "SUCCESS");
  });

  it("a repair that fails again is not rolled back to the broken version: it fails saying so", async () => {
    const t = fakeTarget({ state: liveOn(JAR.sha256.slice(0, 8), "S", SICK), health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback")), t.calls.join());
    assert.equal(out.actionResult, "FAILED");
    assert.match(out.failure!, /failed its health check.*no healthy previous version to roll back to/s);
  });

  it("a new version refused after the stop (main() throws) is rolled back from the pre-upgrade savepoint", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)), upgradeThrows: new Error("Flink refused to run jar x: main() threw") });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "upgrade:savepoint", "rollback:file:///sp/savepoint-1", "health:5:old2"]);
    assert.equal(out.deployAction, "rolledBack");
    assert.equal(out.job?.jobStatus, "RUNNING");
    assert.match(out.failure!, /did not start: Flink refused to run jar x: main\(\) threw\. Rolled back: the previous version runs again \(JobID old2, RUNNING\), restored from savepoint file:\/\/\/sp\/savepoint-1/);
  });

  it("a stopped job whose last execution left a savepoint is started from it; stateless starts empty", async () => {
    const stopped: Partial<JobRecord> = { live: false, job: { jobName: "orders", jobId: "old1", jobStatus: "FINISHED" }, lastSnapshot: { path: "file:///sp/savepoint-9", kind: "savepoint", jobId: "old1" } };
    const t = fakeTarget({ state: stopped });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "submit:file:///sp/savepoint-9", "health:5:new1", "commit"]);
    assert.equal(out.deployAction, "submitted");
    const empty = fakeTarget({ state: stopped });
    await deploy(empty, JAR, { ...INPUTS, upgradeMode: "stateless" }, "orders", log);
    assert.ok(empty.calls.includes("submit"), empty.calls.join());
  });

  it("dryRun: reads, prints the plan, sets plan:<action>, changes nothing", async () => {
    const t = fakeTarget({ state: liveOn("b".repeat(8)) });
    const out = await deploy(t, JAR, { ...INPUTS, dryRun: true }, "orders", log);
    assert.deepEqual(t.calls, ["read"]);
    assert.equal(out.deployAction, "plan:upgraded");
    assert.equal(out.actionResult, "SUCCESS");
    assert.match(out.notes!.join("\n"), /Plan for job 'orders': upgrade — execution old1 \(RUNNING\) runs another jar \(SHA-256 bbbbbbbb…\): it is stopped with a savepoint.*dryRun: nothing was changed/s);
    const sick = fakeTarget({ state: liveOn(JAR.sha256, "S", SICK) });
    assert.equal((await deploy(sick, JAR, { ...INPUTS, dryRun: true }, "orders", log)).deployAction, "plan:repaired");
  });

  it("cancelled in any phase (reading, uploading, health check): one line saying where the job stands, read afresh", async () => {
    for (const phase of ["read", "upload", "health"] as const) {
      const t = fakeTarget({ state: liveOn("b".repeat(8)) });
      const cancel = () => {
        throw new CancelledError(`The pipeline was cancelled while ${phase}`);
      };
      if (phase === "read") t.read = async () => cancel();
      if (phase === "upload") t.upload = async () => cancel();
      if (phase === "health") t.health = async () => cancel();
      await assert.rejects(deploy(t, JAR, INPUTS, "orders", log), (error: Error) => {
        assert.ok(error instanceof CancelledError, phase);
        assert.match(error.message, new RegExp(`cancelled while ${phase}.*Where the job stands: execution new1 is RESTARTING`));
        return true;
      });
      assert.ok(t.calls.includes("whereNow"), phase);
    }
  });

  it("waitForCompletion false: no health gate, IN_PROGRESS", async () => {
    const t = fakeTarget({ state: { live: false } });
    const out = await deploy(t, JAR, INPUTS, "orders", log, false);
    assert.deepEqual(t.calls, ["read", "upload", "submit"]);
    assert.equal(out.actionResult, "IN_PROGRESS");
  });

  it("Deploy's inputs: defaults, and a bad value names its input", () => {
    assert.deepEqual(validateDeployInputs(() => undefined), { upgradeMode: "savepoint", healthCheckSeconds: 60, rollbackOnFailure: true, dryRun: false });
    assert.throws(() => validateDeployInputs((n) => (n === "upgradeMode" ? "last-state" : undefined)), (e: InputError) => e.input === "upgradeMode");
    assert.throws(() => validateDeployInputs((n) => (n === "healthCheckSeconds" ? "-1" : undefined)), (e: InputError) => e.input === "healthCheckSeconds");
  });

  it("on hdinsightAks the task needs jobJarDirectory and jarFile, named before any call", async () => {
    const host = fakeHost({ id: "x", url: "http://127.0.0.1:1", scheme: "None", parameters: {} }, "/tmp");
    const inputs: Record<string, string> = { target: "hdinsightAks", jobName: "orders", jarFile: "app.jar", resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1" };
    host.input = (name) => inputs[name];
    host.serviceConnection = () => assert.fail("the service connection was read");
    await assert.rejects(executeTask(TASKS.FlinkJobDeploy, host), (e: InputError) => e instanceof InputError && e.input === "jobJarDirectory");
    inputs["jobJarDirectory"] = "abfss://jars@acct.dfs.core.windows.net/flink";
    inputs["jarFile"] = "app.zip";
    await assert.rejects(executeTask(TASKS.FlinkJobDeploy, host), (e: InputError) => e instanceof InputError && e.input === "jarFile");
  });
});
