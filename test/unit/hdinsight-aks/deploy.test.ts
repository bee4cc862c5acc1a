/**
 * FlinkJobDeploy's HDInsight adapter (src/backends/hdinsight-aks/deploy.ts) in memory: a job API
 * that applies each runJob at once the way the service records it, and a jar store that keeps
 * replaced bytes the way uploadJar does. Milliseconds, no network.
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ArmClient, ArmResponse } from "../../../src/azure/arm-client";
import type { JarBlobState, JarLocation, JarUploadResult } from "../../../src/azure/jar-upload";
import type { JarStore } from "../../../src/backends/hdinsight-aks/deploy";
import { HdInsightBackend } from "../../../src/backends/hdinsight-aks/index";
import { validateHdInsightInputs } from "../../../src/backends/hdinsight-aks/inputs";
import type { JobRecord } from "../../../src/backends/hdinsight-aks/job-record";
import type { ClusterRef, JobsApi, RunJobBody } from "../../../src/backends/hdinsight-aks/jobs-api";
import { InputError } from "../../../src/errors";
import type { WaitOptions } from "../../../src/jobs/backend";
import { type DeployInputs, validateDeployInputs } from "../../../src/jobs/deploy";
import { silentLogger } from "../../../src/util/logger";

const DIR = "abfss://jars@acct.dfs.core.windows.net/flink";
let counter = 0;

/** The job API, applying each action at once; `failNext` and `crashAfterReads` inject a failing version. */
class ServiceFake implements JobsApi {
  readonly cluster: ClusterRef = { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1" };
  readonly apiVersion = "2024-05-01-preview" as const;
  readonly client = { request: async () => ({ status: 200, headers: {}, data: undefined }), resolve: (u: string) => u, requestCount: 0 } as unknown as ArmClient;
  readonly records: JobRecord[] = [];
  readonly posts: RunJobBody["properties"][] = [];
  /** The next such action ends FAILED; with jobStatus RUNNING the running version keeps running untouched. */
  failNext?: { action: string; jobOutput: string; keepSavepoint?: boolean; jobStatus?: string };
  /** After this many list reads following a successful action, the job fails (a crash after start). */
  crashAfterReads?: number;
  private readsSinceAction = 0;

  constructor(private readonly jars: FakeJars) {}

  async runJob(body: RunJobBody): Promise<ArmResponse> {
    const req = body.properties;
    this.posts.push(req);
    this.readsSinceAction = 0;
    let r = this.records.find((x) => x.properties.runId === req.runId);
    if (req.action === "NEW") {
      r = { id: `jobs/${++counter}`, properties: { jobType: "FlinkJob", runId: `job-${counter}`, jobName: req.jobName, jobJarDirectory: req.jobJarDirectory, jarName: req.jarName, entryClass: req.entryClass, args: req.args, flinkConfiguration: req.flinkConfiguration } };
      this.records.push(r);
    }
    const p = r!.properties;
    p.action = req.action;
    const savepoint = () => (p.lastSavePoint = `${DIR}/sp/savepoint-${String(++counter).padStart(6, "0")}-aaaaaaaaaaaa`);
    if (this.failNext?.action === req.action) {
      if (this.failNext.keepSavepoint && p.status === "RUNNING") savepoint();
      Object.assign(p, { actionResult: "FAILED", status: this.failNext.jobStatus ?? "FAILED", jobOutput: this.failNext.jobOutput });
      this.failNext = undefined;
    } else if (!this.jars.blobs.has(`${p.jobJarDirectory}/${p.jarName}`)) {
      Object.assign(p, { actionResult: "FAILED", status: "JOB_LAUNCH_FAILED", jobOutput: "Job execution failed. \nFailed to download jar" });
    } else {
      if (req.action === "UPDATE" && !req.savePointName && p.status === "RUNNING") savepoint();
      if (req.args !== undefined) p.args = req.args;
      p.runningSha = this.jars.blobs.get(`${p.jobJarDirectory}/${p.jarName}`)!.sha256;
      Object.assign(p, { actionResult: "SUCCESS", status: "RUNNING", jobId: createHash("md5").update(String(++counter)).digest("hex"), jobOutput: "Flink internal job status : RUNNING" });
    }
    return { status: 200, headers: {}, data: null, requestId: `req-${this.posts.length}`, clientRequestId: "c" } as ArmResponse;
  }

  async listJobs(options: { jobName?: string } = {}): Promise<JobRecord[]> {
    if (this.crashAfterReads !== undefined && ++this.readsSinceAction > this.crashAfterReads) {
      for (const r of this.records) if (r.properties.status === "RUNNING") Object.assign(r.properties, { status: "FAILED", jobOutput: "Flink internal job status : FAILED" });
      this.crashAfterReads = undefined;
    }
    const copy = this.records.map((r) => ({ ...r, properties: { ...r.properties } }));
    return options.jobName === undefined ? copy : copy.filter((r) => r.properties.jobName === options.jobName);
  }
}

/** Blobs by path with their SHA-256; replaced bytes kept under .versions/, as uploadJar keeps them. */
class FakeJars implements JarStore {
  readonly blobs = new Map<string, { sha256: string; etag: string }>();
  readonly calls: string[] = [];
  private etags = 0;

  async read(dir: string, name: string): Promise<JarBlobState | undefined> {
    this.calls.push(`read:${name}`);
    return this.blobs.get(`${dir}/${name}`);
  }

  async upload(filePath: string, dir: string, name: string, overwrite: boolean): Promise<JarUploadResult> {
    this.calls.push(`upload:${name}:${overwrite}`);
    const sha256 = createHash("sha256").update(fs.readFileSync(filePath)).digest("hex");
    const here = { jarPath: `${dir}/${name}`, jobJarDirectory: dir, jarName: name, blobUrl: `https://blob/${name}` };
    const existing = this.blobs.get(here.jarPath);
    const base = { ...here, sha256, md5: "m", size: 1 };
    if (existing?.sha256 === sha256) return { ...base, status: "unchanged", etag: existing.etag };
    if (existing && !overwrite) throw new Error(`A different jar is already at ${here.jarPath}`);
    let previous: JarUploadResult["previous"];
    if (existing) {
      const keptDir = `${dir}/.versions/${existing.sha256.slice(0, 16)}`;
      this.blobs.set(`${keptDir}/${name}`, { ...existing });
      previous = { jarPath: `${keptDir}/${name}`, jobJarDirectory: keptDir, jarName: name, blobUrl: "x", etag: existing.etag, sha256: existing.sha256 };
    }
    const etag = `"e${++this.etags}"`;
    this.blobs.set(here.jarPath, { sha256, etag });
    return { ...base, status: existing ? "replaced" : "created", etag, ...(previous ? { previous } : {}) };
  }

  async restore(from: JarLocation, dir: string, name: string, ifMatch: string): Promise<JarBlobState> {
    this.calls.push(`restore:${from.jarPath}`);
    const now = this.blobs.get(`${dir}/${name}`);
    if (now?.etag !== ifMatch) throw new Error(`412 ConditionNotMet on ${dir}/${name}`);
    const kept = { sha256: this.blobs.get(from.jarPath)!.sha256, etag: `"e${++this.etags}"` };
    this.blobs.set(`${dir}/${name}`, kept);
    return kept;
  }
}

describe("FlinkJobDeploy on HDInsight on AKS, in memory (adapter over fake job API and jar store)", () => {
  let work: string;
  let jars: FakeJars;
  let api: ServiceFake;
  let warnings: string[];
  const options = (): WaitOptions => ({ timeoutMs: 5_000, waitForCompletion: true, maxPollIntervalMs: 5, logger: { ...silentLogger, warning: (m) => warnings.push(m) } });

  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hdi-deploy-"));
    jars = new FakeJars();
    api = new ServiceFake(jars);
    warnings = [];
  });

  function build(version: string, name = "app.jar"): string {
    const dir = path.join(work, version);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), `jar ${version}`);
    return `${version}/*.jar`;
  }

  function run(jarFile: string, more: Record<string, string> = {}, deployMore: Partial<DeployInputs> = {}) {
    const raw = (n: string) => ({ resourceGroupName: "rg", clusterPoolName: "pool", clusterName: "c1", jobJarDirectory: DIR, jarFile, entryClass: "org.example.Job", healthCheckSeconds: "0", ...more })[n];
    const inputs = validateHdInsightInputs({ target: "hdinsightAks", action: "NEW", deploy: true, jobName: "orders", waitForCompletion: true, timeoutMs: 5000, maxPollIntervalMs: 5 }, raw);
    const backend = new HdInsightBackend(api, () => {}, { minPollIntervalMs: 1, ambiguityWindowMs: 20, operationHeadStartMs: 0 }, { jars: () => jars, workingDirectory: work });
    return backend.deploy({ jobName: "orders", inputs, deploy: { ...validateDeployInputs(raw), ...deployMore } }, options());
  }

  const shaOf = (version: string) => createHash("sha256").update(`jar ${version}`).digest("hex");

  it("no job: uploads (refusing to replace a stranger's jar) and submits NEW from it", async () => {
    const outcome = await run(build("v1"), { args: "--a 1" });
    assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
    assert.equal(outcome.deployAction, "submitted");
    assert.equal(outcome.jarPath, `${DIR}/app.jar`);
    assert.equal(outcome.jarSha256, shaOf("v1"));
    assert.deepEqual(jars.calls, ["upload:app.jar:false"]);
    assert.deepEqual(api.posts.map((p) => [p.action, p.jobJarDirectory, p.jarName, p.args]), [["NEW", DIR, "app.jar", "--a 1"]]);
    assert.equal(outcome.job?.jobStatus, "RUNNING");
  });

  it("the same jar and settings again: unchanged, nothing uploaded or posted", async () => {
    await run(build("v1"), { args: "--a 1" });
    jars.calls.length = 0;
    const outcome = await run(build("v1"), { args: "--a 1" });
    assert.equal(outcome.deployAction, "unchanged");
    assert.deepEqual(jars.calls, ["read:app.jar"]);
    assert.equal(api.posts.length, 1);
  });

  it("a new jar: replaces the bytes at the running job's path (its name, not the build's) and UPDATEs from a savepoint", async () => {
    await run(build("v1"));
    const outcome = await run(build("v2", "app-2.0.jar"));
    assert.equal(outcome.actionResult, "SUCCESS", outcome.failure);
    assert.equal(outcome.deployAction, "upgraded");
    assert.equal(outcome.jarPath, `${DIR}/app.jar`);
    assert.equal(jars.blobs.get(`${DIR}/app.jar`)?.sha256, shaOf("v2"));
    assert.equal(jars.blobs.get(`${DIR}/.versions/${shaOf("v1").slice(0, 16)}/app.jar`)?.sha256, shaOf("v1"), "the previous bytes are kept");
    assert.deepEqual(api.posts.map((p) => p.action), ["NEW", "UPDATE"]);
    assert.match(outcome.previousSavepoint ?? "", /savepoint-\d{6}-a{12}$/);
    assert.equal(api.records[0]!.properties["runningSha"], shaOf("v2"));
  });

  it("other args only: the same jar is not re-uploaded, the upgrade carries the new args", async () => {
    await run(build("v1"), { args: "--a 1" });
    const outcome = await run(build("v1"), { args: "--a 2" }, { upgradeMode: "stateless" });
    assert.equal(outcome.deployAction, "upgraded");
    assert.deepEqual(api.posts.map((p) => [p.action, p.args]), [["NEW", "--a 1"], ["STATELESS_UPDATE", "--a 2"]]);
    assert.equal(outcome.previousSavepoint, undefined);
  });

  it("another entryClass or configuration on a running job: refused naming the input, before any upload", async () => {
    await run(build("v1"));
    jars.calls.length = 0;
    await assert.rejects(run(build("v2"), { entryClass: "org.example.Other" }), (e: Error) => e instanceof InputError && e.input === "entryClass" && /keeps those/.test(e.message));
    await assert.rejects(run(build("v2"), { parallelism: "4" }), (e: Error) => e instanceof InputError && e.input === "flinkConfiguration");
    assert.deepEqual(jars.calls, []);
    assert.equal(api.posts.length, 1);
  });

  it("an UPDATE that fails: the previous bytes go back and the job is UPDATEd from the pre-upgrade savepoint; the step fails rolledBack", async () => {
    await run(build("v1"), { args: "--a 1" });
    api.failNext = { action: "UPDATE", jobOutput: "Job execution failed. \nNoSuchMethodError", keepSavepoint: true };
    const outcome = await run(build("v2"), { args: "--a 2" });
    assert.equal(outcome.actionResult, "FAILED");
    assert.equal(outcome.deployAction, "rolledBack");
    assert.match(outcome.failure ?? "", /UPDATE ended FAILED: status FAILED, jobOutput 'Job execution failed. \nNoSuchMethodError'/);
    assert.match(outcome.failure ?? "", /Rolled back/);
    const [, failed, back] = api.posts;
    assert.equal(failed?.action, "UPDATE");
    assert.deepEqual([back?.action, back?.savePointName, back?.args], ["UPDATE", outcome.previousSavepoint, "--a 1"]);
    assert.ok(outcome.previousSavepoint);
    assert.equal(jars.blobs.get(`${DIR}/app.jar`)?.sha256, shaOf("v1"), "the previous jar is back at its path");
    assert.equal(api.records[0]!.properties["runningSha"], shaOf("v1"));
    assert.equal(outcome.job?.jobStatus, "RUNNING");
  });

  it("an UPDATE refused while the old version keeps running: its jar goes back, the job is left alone (no STATELESS_UPDATE), the re-run upgrades again", async () => {
    await run(build("v1"), { args: "--a 1" });
    const running = { ...api.records[0]!.properties };
    for (const rollbackOnFailure of [true, false]) {
      // (Another jobOutput each time: the service's answer to a new action is a changed record.)
      api.failNext = { action: "UPDATE", jobOutput: `Job update failed: invalid jar (rollbackOnFailure ${rollbackOnFailure})`, jobStatus: "RUNNING" };
      const posted = api.posts.length;
      await assert.rejects(run(build("v2"), { args: "--a 2" }, { rollbackOnFailure }), (error: Error) => {
        assert.match(error.message, new RegExp(`UPDATE of job 'orders' ended FAILED .*the running version kept running \\(JobID ${running["jobId"]}\\): it was left alone, and its jar is back at .*app\\.jar\\. The new version never ran`, "s"));
        assert.equal((error as Error & { job?: { jobId?: string } }).job?.jobId, running["jobId"], "the JobID named is not the one that runs");
        return true;
      });
      assert.deepEqual(api.posts.slice(posted).map((p) => p.action), ["UPDATE"], "the running version was restarted");
      assert.equal(jars.blobs.get(`${DIR}/app.jar`)?.sha256, shaOf("v1"), "the blob holds bytes that never ran");
      assert.equal(api.records[0]!.properties["runningSha"], shaOf("v1"));
      assert.equal(api.records[0]!.properties.jobId, running["jobId"]);
    }
    // The re-run of the same step: the new bytes never ran, so it is not unchanged: it upgrades.
    const again = await run(build("v2"), { args: "--a 2" });
    assert.equal(again.deployAction, "upgraded", again.failure);
    assert.equal(api.records[0]!.properties["runningSha"], shaOf("v2"));
  });

  it("a new version that fails during the health check is rolled back; with rollbackOnFailure false it is left, saying which savepoint holds the last good state", async () => {
    await run(build("v1"));
    api.crashAfterReads = 3;
    const back = await run(build("v2"), { healthCheckSeconds: "2" });
    assert.equal(back.deployAction, "rolledBack", back.failure);
    assert.match(back.failure ?? "", /left RUNNING after \d+ s: status FAILED, jobOutput 'Flink internal job status : FAILED'/);

    api.crashAfterReads = 3;
    const left = await run(build("v3"), { healthCheckSeconds: "2" }, { rollbackOnFailure: false });
    assert.equal(left.actionResult, "FAILED");
    assert.equal(left.deployAction, "upgraded");
    assert.match(left.failure ?? "", new RegExp(`Savepoint ${left.previousSavepoint!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} holds the last good state`));
  });

  it("a rollback that fails too says where the job stands and which savepoint holds the last good state", async () => {
    await run(build("v1"));
    api.failNext = { action: "UPDATE", jobOutput: "boom", keepSavepoint: true };
    jars.restore = async () => {
      throw new Error("403 AuthorizationPermissionMismatch");
    };
    const outcome = await run(build("v2"));
    assert.equal(outcome.actionResult, "FAILED");
    assert.equal(outcome.deployAction, "upgraded");
    assert.match(outcome.failure ?? "", /The rollback failed too: 403 AuthorizationPermissionMismatch\. Where the job stands: action UPDATE, actionResult FAILED, status FAILED .*jobOutput 'boom'; the jar at .*app\.jar\. Savepoint .*savepoint-.* holds the last good state/);
  });

  it("a submit whose jar blob the cluster cannot read reports the launch failure; nothing to roll back", async () => {
    jars.upload = async (_f, dir, name) => ({ jarPath: `${dir}/${name}`, jobJarDirectory: dir, jarName: name, blobUrl: "x", status: "created", sha256: "0", md5: "m", size: 1, etag: "e" });
    const outcome = await run(build("v1"));
    assert.equal(outcome.actionResult, "FAILED");
    assert.match(outcome.failure ?? "", /NEW ended FAILED: status JOB_LAUNCH_FAILED, jobOutput 'Job execution failed. \nFailed to download jar'.*no healthy previous version/s);
  });

  it("a jar pattern matching none or two fails naming jarFile, before any call", async () => {
    await assert.rejects(run("nothing/*.jar"), (e: Error) => e instanceof InputError && e.input === "jarFile" && /matches no file|no .*jar|matches 0|does not match|nothing/i.test(e.message));
    build("two");
    build("two", "other.jar");
    await assert.rejects(run("two/*.jar"), (e: Error) => e instanceof InputError && e.input === "jarFile" && /matches 2 files/.test(e.message));
    assert.deepEqual([jars.calls, api.posts], [[], []]);
  });
});
