/**
 * The deploy orchestrator (src/jobs/deploy.ts) against a fake target, in milliseconds: each
 * decision, the health gate's outcomes, rollback and its failure, a cancel mid-upgrade.
 */
import * as assert from "node:assert/strict";
import { CancelledError, InputError } from "../../src/errors";
import { executeTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";
import { fakeHost } from "../flink-rest/helpers";
import { type DeployedState, type DeployInputs, type DeployTarget, deploy, type Health, type LocalJar, validateDeployInputs } from "../../src/jobs/deploy";

const JAR: LocalJar = { path: "/w/app.jar", size: 10, sha256: "a".repeat(64) };
const INPUTS: DeployInputs = { upgradeMode: "savepoint", healthCheckSeconds: 5, rollbackOnFailure: true };

interface FakeOptions {
  state: Partial<DeployedState>;
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
    submit: async () => {
      calls.push("submit");
      return { job: { jobName: "orders", jobId: "new1", jobStatus: "INITIALIZING" } };
    },
    upgrade: async (mode, onStopped) => {
      calls.push(`upgrade:${mode}`);
      onStopped(o.savepoint ?? "file:///sp/savepoint-1");
      if (o.upgradeThrows) throw o.upgradeThrows;
      return { job: { jobName: "orders", jobId: "new1", jobStatus: "INITIALIZING" } };
    },
    health: async (_s, seconds) => {
      calls.push(`health:${seconds}`);
      return o.health ?? { healthy: true, seen: "RUNNING for 5 s" };
    },
    rollback: async (_f, savepoint) => {
      calls.push(`rollback:${savepoint}`);
      if (o.rollbackFails) throw new Error(o.rollbackFails);
      return { job: { jobName: "orders", jobId: "old2", jobStatus: "RUNNING" } };
    },
    commit: async () => {
      calls.push("commit");
    },
    whereNow: async () => {
      calls.push("whereNow");
      return "execution new1 is RESTARTING";
    },
  };
}

const log = { info: () => undefined, warning: () => undefined };
const failing: Health = { healthy: false, report: "the job left RUNNING: job RESTARTING (JobID new1); newest: RuntimeException: boom", job: { jobName: "orders", jobId: "new1", jobStatus: "RESTARTING" } };

describe("deploy orchestrator (fake target)", () => {
  it("not running → upload, submit, health, commit: submitted", async () => {
    const t = fakeTarget({ state: { live: false } });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "submit", "health:5", "commit"]);
    assert.equal(out.deployAction, "submitted");
    assert.equal(out.actionResult, "SUCCESS");
    assert.equal(out.jarSha256, JAR.sha256);
    assert.equal(out.jarId, "new.jar");
  });

  it("same SHA-256 and same settings while live → unchanged, nothing uploaded", async () => {
    const t = fakeTarget({ state: { live: true, jarSha256: JAR.sha256, settings: "S" } });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read"]);
    assert.equal(out.deployAction, "unchanged");
    assert.equal(out.actionResult, "SUCCESS");
  });

  it("same jar, other settings → upgrade; another jar → upgrade in the chosen mode", async () => {
    const t1 = fakeTarget({ state: { live: true, jarSha256: JAR.sha256, settings: "OTHER" } });
    assert.equal((await deploy(t1, JAR, INPUTS, "orders", log)).deployAction, "upgraded");
    const t2 = fakeTarget({ state: { live: true, jarSha256: "b".repeat(64), settings: "S" } });
    const out = await deploy(t2, JAR, { ...INPUTS, upgradeMode: "lastState" }, "orders", log);
    assert.deepEqual(t2.calls, ["read", "upload", "upgrade:lastState", "health:5", "commit"]);
    assert.equal(out.previousSavepoint, "file:///sp/savepoint-1");
  });

  it("a failed health check after an upgrade rolls back from the pre-upgrade savepoint and fails saying so", async () => {
    const t = fakeTarget({ state: { live: true, jarSha256: "b".repeat(64) }, health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.deepEqual(t.calls, ["read", "upload", "upgrade:savepoint", "health:5", "rollback:file:///sp/savepoint-1"]);
    assert.equal(out.actionResult, "FAILED");
    assert.equal(out.deployAction, "rolledBack");
    assert.equal(out.job?.jobId, "old2");
    assert.match(out.failure!, /failed its health check: .*RESTARTING.*boom/);
    assert.match(out.failure!, /Rolled back: the previous version runs again \(JobID old2, RUNNING\), restored from savepoint file:\/\/\/sp\/savepoint-1/);
  });

  it("rollbackOnFailure false: fails, the new version left, naming the savepoint with the last good state", async () => {
    const t = fakeTarget({ state: { live: true }, health: failing });
    const out = await deploy(t, JAR, { ...INPUTS, rollbackOnFailure: false }, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback")));
    assert.equal(out.actionResult, "FAILED");
    assert.equal(out.deployAction, "upgraded");
    assert.match(out.failure!, /rollbackOnFailure is false: the new version is left as it is \(JobID new1, RESTARTING\)\. Savepoint file:\/\/\/sp\/savepoint-1 holds the last good state/);
  });

  it("a failing rollback says where the job stands and which savepoint holds the last good state", async () => {
    const t = fakeTarget({ state: { live: true }, health: failing, rollbackFails: "the previous version did not start again: FAILED" });
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
    assert.match(out.failure!, /no previous version to roll back to/);
  });

  it("the previous jar no longer known: fails without a rollback, saying why", async () => {
    const t = fakeTarget({ state: { live: true, rollbackPossible: false, rollbackImpossibleBecause: "the cluster no longer has the jar" }, health: failing });
    const out = await deploy(t, JAR, INPUTS, "orders", log);
    assert.ok(!t.calls.some((c) => c.startsWith("rollback")));
    assert.match(out.failure!, /cannot be rolled back: the cluster no longer has the jar\. Savepoint file:\/\/\/sp\/savepoint-1/);
  });

  it("cancelled after the old version stopped: a CancelledError that says where the job stands and names the savepoint", async () => {
    const t = fakeTarget({ state: { live: true }, upgradeThrows: new CancelledError("The pipeline was cancelled while starting the new version") });
    await assert.rejects(deploy(t, JAR, INPUTS, "orders", log), (error: unknown) => {
      assert.ok(error instanceof CancelledError);
      const deployed = (error as CancelledError & { deploy?: { previousSavepoint?: string } }).deploy;
      assert.match(error.message, /cancelled while starting the new version\. Where the job stands: execution new1 is RESTARTING\. Savepoint file:\/\/\/sp\/savepoint-1 holds the last good state/);
      assert.equal(deployed?.previousSavepoint, "file:///sp/savepoint-1");
      return true;
    });
    assert.ok(t.calls.includes("whereNow"));
  });

  it("waitForCompletion false: no health gate, IN_PROGRESS", async () => {
    const t = fakeTarget({ state: { live: false } });
    const out = await deploy(t, JAR, INPUTS, "orders", log, false);
    assert.deepEqual(t.calls, ["read", "upload", "submit"]);
    assert.equal(out.actionResult, "IN_PROGRESS");
  });

  it("Deploy's inputs: defaults, and a bad value names its input", () => {
    assert.deepEqual(validateDeployInputs(() => undefined), { upgradeMode: "savepoint", healthCheckSeconds: 60, rollbackOnFailure: true });
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
