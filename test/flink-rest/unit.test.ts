/**
 * The Flink REST backend's pure parts and its client against servers that are not a healthy
 * Flink: no cluster needed.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isLive, parseFlinkVersion, parseTriggerState, runRequestBody, savepointDirKey } from "../../src/backends/flink-rest/api";
import { condense, FlinkRestClient, FlinkRestError, FlinkUnreachableError, NotFlinkAnswerError } from "../../src/backends/flink-rest/client";
import {
  AmbiguousJobError,
  findExecutions,
  jarRunBy,
  jarUploadName,
  jarUploadNameFitting,
  jobTag,
  keptJars,
  MAX_UPLOAD_NAME_BYTES,
  newJobId,
  readJarName,
  recordedFields,
  runsWhat,
  settingsDigest,
} from "../../src/backends/flink-rest/identity";
import { flinkRestBackend, restEndpoint } from "../../src/backends/flink-rest";
import { resolveJarFile, splitArgs } from "../../src/backends/flink-rest/inputs";
import { judgeEnded, judgeStarted, judgeStatus, judgeTrigger, newestRestorePoint, savepointsOf } from "../../src/backends/flink-rest/judge";
import { ConnectionError, InputError } from "../../src/errors";
import type { CommonInputs, JobAction } from "../../src/jobs/backend";
import { runAction, startServer } from "./helpers";

const v = (text: string) => parseFlinkVersion(text)!;

describe("Flink REST: request bodies per version", () => {
  const spec = { jobId: "a".repeat(32), args: ["--x", "1"], savepointPath: "file:///sp/savepoint-1", allowNonRestoredState: true, flinkConfiguration: { "pipeline.name": "j" } };

  it("sends claimMode from 1.20 and restoreMode before; programArgsList always, never programArgs", () => {
    const b120 = runRequestBody(v("1.20.5"), spec);
    assert.equal(b120["claimMode"], "NO_CLAIM");
    assert.equal("restoreMode" in b120, false);
    assert.deepEqual(b120["programArgsList"], ["--x", "1"]);
    assert.equal("programArgs" in b120, false);
    const b119 = runRequestBody(v("1.19.1"), spec);
    assert.equal(b119["restoreMode"], "NO_CLAIM");
    assert.equal("claimMode" in b119, false);
    assert.equal(runRequestBody(v("2.3.0"), spec)["claimMode"], "NO_CLAIM");
  });

  it("sends flinkConfiguration from 1.17 only, and refuses it before", () => {
    assert.deepEqual(runRequestBody(v("1.17.0"), spec)["flinkConfiguration"], { "pipeline.name": "j" });
    assert.throws(() => runRequestBody(v("1.16.3"), spec), /1\.17/);
    assert.equal("flinkConfiguration" in runRequestBody(v("1.16.3"), { ...spec, flinkConfiguration: {} }), false);
  });

  it("sends no restore fields without a savepoint", () => {
    const body = runRequestBody(v("2.3.0"), { jobId: "b".repeat(32), args: [], flinkConfiguration: {} });
    assert.deepEqual(Object.keys(body).sort(), ["jobId", "programArgsList"]);
  });

  it("names the savepoint directory key of the version", () => {
    assert.equal(savepointDirKey(v("1.20.0")), "execution.checkpointing.savepoint-dir");
    assert.equal(savepointDirKey(v("1.19.0")), "state.savepoints.dir");
    assert.deepEqual(parseFlinkVersion("2.3-SNAPSHOT"), { major: 2, minor: 3, text: "2.3-SNAPSHOT" });
    assert.equal(parseFlinkVersion("<html>"), undefined);
  });
});

describe("Flink REST: identity", () => {
  it("tags every JobID of a job with a prefix of its name's hash, the rest random", () => {
    const a = newJobId("orders");
    const b = newJobId("orders");
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, b);
    assert.equal(a.slice(0, 8), jobTag("orders"));
    assert.notEqual(jobTag("orders"), jobTag("orders2"));
  });

  it("keeps the job's settings in the uploaded jar's name and reads them back from /jars", () => {
    const settings = { entryClass: "org.example.Job", args: ["--name", "Orders Pipeline"], parallelism: 3, savepointDirectory: "s3://bucket/sp" };
    const name = jarUploadName("orders", settings, "orders-1.2.3.jar");
    assert.ok(Buffer.byteLength(name) <= MAX_UPLOAD_NAME_BYTES);
    assert.match(name, /orders-1-2-3\.jar$/);
    assert.deepEqual(readJarName(`123e4567-e89b-12d3-a456-426614174000_${name}`), { tag: jobTag("orders"), settings });
    assert.equal(readJarName("123e4567-e89b-12d3-a456-426614174000_someone-elses.jar"), undefined);
  });

  it("refuses settings too long for a file name", () => {
    assert.throws(() => jarUploadName("orders", { args: ["x".repeat(300)] }, "a.jar"));
  });

  it("the JobID says what the execution runs: the jar's SHA-256 and the settings' digest; the kept jar is found by them, not by being newest", () => {
    const sha = "ab12cd34".repeat(8);
    const settings = { args: ["--window", "10m"] };
    const digest = settingsDigest(settings, {});
    const jobId = newJobId("orders", { jarSha256: sha, settingsDigest: digest });
    assert.match(jobId, /^[0-9a-f]{32}$/);
    assert.deepEqual(runsWhat(jobId), { jarDigest: "ab12cd34", settingsDigest: digest });
    const ran = { id: `123e4567-e89b-12d3-a456-426614174001_${jarUploadName("orders", settings, "v1.jar", recordedFields(sha, settings, {}))}`, name: "", uploaded: 1 };
    const newer = { id: `123e4567-e89b-12d3-a456-426614174002_${jarUploadName("orders", settings, "v2.jar", recordedFields("ff".repeat(32), settings, {}))}`, name: "", uploaded: 2 };
    ran.name = ran.id;
    newer.name = newer.id;
    assert.equal(jarRunBy([newer, ran], "orders", jobId)?.id, ran.id);
    assert.equal(jarRunBy([newer, ran], "orders", newJobId("orders", { jarSha256: sha, settingsDigest: settingsDigest({ args: [] }, {}) })), undefined, "other settings, same jar");
  });

  it("never refuses settings too long for a jar's name: keeps what fits and names the inputs to give again", () => {
    const settings = {
      entryClass: "com.contoso.orders.OrdersEnrichmentJob",
      args: ["--bootstrap", "kafka-0.kafka.svc:9092", "--topic", "orders", "--group", "orders-prod", "--window", "10m"],
      parallelism: 4,
      savepointDirectory: "s3://contoso-flink-savepoints-prod/orders-enrichment/savepoints",
    };
    const configuration = { "execution.checkpointing.interval": "7 s", "state.backend.type": "rocksdb" };
    const { name, dropped } = jarUploadNameFitting("orders", settings, "orders-enrichment-1.4.2.jar", recordedFields("cd".repeat(32), settings, configuration));
    assert.ok(Buffer.byteLength(name) <= MAX_UPLOAD_NAME_BYTES);
    assert.ok(dropped.length > 0 && dropped.includes("flinkConfiguration"), dropped.join());
    const read = readJarName(name)!;
    assert.equal(read.tag, jobTag("orders"));
    // What was kept is what was given; what was dropped is named.
    for (const [key, input] of [["entryClass", "entryClass"], ["parallelism", "parallelism"], ["savepointDirectory", "savepointDirectory"]] as const) {
      if (!dropped.includes(input)) assert.deepEqual(read.settings[key], settings[key]);
    }
    if (!dropped.includes("args")) assert.deepEqual(read.settings.args, settings.args);
    // Read back, the jar says it is incomplete: a run from it must be given the dropped inputs again.
    const listed = `123e4567-e89b-12d3-a456-426614174003_${name}`;
    assert.equal(keptJars([{ id: listed, name: listed, uploaded: 1 }], "orders")[0]?.complete, false);
    // A short one keeps everything, flinkConfiguration included.
    const short = jarUploadNameFitting("orders", { args: ["--a", "1"] }, "o.jar", recordedFields("cd".repeat(32), { args: ["--a", "1"] }, { "execution.checkpointing.interval": "7 s" }));
    assert.deepEqual(short.dropped, []);
    const kept = keptJars([{ id: `123e4567-e89b-12d3-a456-426614174004_${short.name}`, name: "", uploaded: 1 }], "orders")[0]!;
    assert.equal(kept.complete, true);
    assert.deepEqual(kept.configuration, { "execution.checkpointing.interval": "7 s" });
  });

  const overview = (jid: string, name: string, state: string, startTime: number) => ({ jid, name, state, startTime, endTime: -1 });

  it("finds the job's executions by tag, newest first, even under another Flink name", () => {
    const tag = jobTag("orders");
    const jobs = [overview(`${tag}${"1".repeat(24)}`, "Orders Pipeline", "FINISHED", 1), overview(`${tag}${"2".repeat(24)}`, "Orders Pipeline", "RUNNING", 2), overview("f".repeat(32), "orders", "RUNNING", 3)];
    const found = findExecutions(jobs, "orders");
    assert.equal(found.ours, true);
    assert.deepEqual(found.executions.map((e) => e.startTime), [2, 1]);
  });

  it("adopts one live job started elsewhere by its Flink name; refuses two, naming their JobIDs", () => {
    const one = findExecutions([overview("a".repeat(32), "legacy", "RUNNING", 1), overview("b".repeat(32), "legacy", "CANCELED", 2)], "legacy");
    assert.equal(one.ours, false);
    assert.deepEqual(one.executions.map((e) => e.jid), ["a".repeat(32)]);
    assert.throws(
      () => findExecutions([overview("a".repeat(32), "legacy", "RUNNING", 1), overview("b".repeat(32), "legacy", "RESTARTING", 2)], "legacy"),
      (e: Error) => e instanceof AmbiguousJobError && e.message.includes("a".repeat(32)) && e.message.includes("b".repeat(32)),
    );
  });
});

describe("Flink REST: judges", () => {
  const details = (state: string, ...vertices: string[]) => ({ jid: "a".repeat(32), name: "j", state, vertices: vertices.map((status) => ({ name: "v", status })) });

  it("SUSPENDED (a JobManager failover on an HA cluster) is live: waits go on, and a second execution beside it is refused", () => {
    assert.equal(judgeStarted(details("SUSPENDED", "CANCELED")).done, false);
    assert.equal(judgeEnded("SUSPENDED", "CANCELED").done, false);
    assert.equal(judgeStatus("SUSPENDED", "RUNNING").done, false);
    const suspended = { jid: newJobId("orders"), name: "orders", state: "SUSPENDED", startTime: 2, endTime: -1 };
    // A job found SUSPENDED is live: Submit and Start must not start another beside it.
    assert.equal(findExecutions([suspended], "orders").executions.filter((e) => isLive(e.state)).length, 1);
    assert.throws(() => findExecutions([suspended, { ...suspended, jid: newJobId("orders"), state: "RUNNING", startTime: 3 }], "orders"), AmbiguousJobError);
  });

  it("a started job is healthy only when RUNNING with every task RUNNING", () => {
    assert.equal(judgeStarted(undefined).done, false);
    assert.equal(judgeStarted(details("RUNNING", "RUNNING", "DEPLOYING")).done, false);
    assert.equal(judgeStarted(details("INITIALIZING")).done, false);
    const ok = judgeStarted(details("RUNNING", "RUNNING", "RUNNING"));
    assert.ok(ok.done && ok.ok);
    const failed = judgeStarted(details("FAILED", "FAILED"));
    assert.ok(failed.done && !failed.ok);
  });

  it("a savepoint trigger: IN_PROGRESS waits, a location succeeds, a failure cause fails (both COMPLETED)", () => {
    assert.equal(judgeTrigger(parseTriggerState({ status: { id: "IN_PROGRESS" } })!).done, false);
    const ok = judgeTrigger(parseTriggerState({ status: { id: "COMPLETED" }, operation: { location: "file:/sp/savepoint-1" } })!);
    assert.ok(ok.done && ok.ok && ok.value === "file:/sp/savepoint-1");
    const failed = judgeTrigger(
      parseTriggerState({ status: { id: "COMPLETED" }, operation: { "failure-cause": { class: "java.io.IOException", "stack-trace": "java.io.IOException: Read-only file system\n\tat x.y(Z.java:1)" } } })!,
    );
    assert.ok(failed.done && !failed.ok && failed.failure === "IOException: Read-only file system");
    assert.equal(parseTriggerState({ status: { id: "COMPLETED" }, operation: {} }), undefined, "neither location nor cause is malformed");
    assert.equal(parseTriggerState("<html>"), undefined);
  });

  it("an ended job, and waitForStatus that can never be met", () => {
    assert.equal(judgeEnded("CANCELLING", "CANCELED").done, false);
    assert.ok(judgeEnded("CANCELED", "CANCELED").done);
    const never = judgeStatus("FINISHED", "RUNNING");
    assert.ok(never.done && !never.ok);
    assert.equal(judgeStatus("INITIALIZING", "RUNNING").done, false);
  });

  it("the restore point is the newest of restored, completed and savepoint by id; unaddressable ones are skipped", () => {
    const p = (id: number, externalPath?: string) => ({ id, isSavepoint: false, ...(externalPath ? { externalPath } : {}) });
    assert.equal(newestRestorePoint({ latestRestored: p(3, "r"), latestCompleted: p(7, "c"), latestSavepoint: p(5, "s"), historySavepoints: [] })?.externalPath, "c");
    assert.equal(newestRestorePoint({ latestCompleted: p(9), latestSavepoint: p(5, "s"), historySavepoints: [] })?.externalPath, "s");
    assert.equal(newestRestorePoint({ historySavepoints: [] }), undefined);
    assert.deepEqual(savepointsOf({ latestSavepoint: p(5, "s5"), historySavepoints: [p(5, "s5"), p(2, "s2")] }).map((x) => x.externalPath), ["s5", "s2"]);
  });

  it("condenses Flink's stack traces to each distinct message once", () => {
    const trace = [
      "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.",
      "\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)",
      "Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.",
      "Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: boom",
      "\t... 7 more",
      "Caused by: java.lang.IllegalStateException: boom",
    ].join("\n");
    assert.equal(condense(trace), "Could not execute application. ← ProgramInvocationException: The main method caused an error: boom");
  });
});

describe("Flink REST: inputs", () => {
  const common = (action: JobAction): CommonInputs => ({ target: "flinkRest", jobName: "orders", action, waitForCompletion: true, timeoutMs: 60_000, maxPollIntervalMs: 1000 });
  const validate = (action: JobAction, inputs: Record<string, string>) => flinkRestBackend.validate(common(action), (name) => inputs[name]);

  it("splits args as a shell does", () => {
    assert.deepEqual(splitArgs("args", `--name "Orders Pipeline" --sql 'select 1' a\\ b`), ["--name", "Orders Pipeline", "--sql", "select 1", "a b"]);
    assert.throws(() => splitArgs("args", `--name "open`), (e: Error) => e instanceof InputError && e.input === "args");
  });

  it("names the bad input, before any network call", () => {
    const expect = (inputs: Record<string, string>, action: JobAction, input: string) =>
      assert.throws(() => validate(action, { flinkConnection: "c", ...inputs }), (e: Error) => e instanceof InputError && e.input === input);
    expect({}, "NEW", "jarFile");
    expect({ jarFile: "job.zip" }, "NEW", "jarFile");
    expect({ jarFile: "a.jar", entryClass: "not a class" }, "NEW", "entryClass");
    expect({ jarFile: "a.jar", parallelism: "0" }, "NEW", "parallelism");
    expect({ jarFile: "a.jar", savepointDirectory: "relative/dir" }, "NEW", "savepointDirectory");
    expect({ jarFile: "a.jar", flinkConfiguration: "pipeline.name=x" }, "NEW", "flinkConfiguration");
    expect({ jarFile: "a.jar", savepointName: "last night's savepoint" }, "NEW", "savepointName");
    expect({ jarFile: "a.jar", allowNonRestoredState: "yes" }, "NEW", "allowNonRestoredState");
    assert.throws(() => validate("STOP", {}), (e: Error) => e instanceof InputError && e.input === "flinkConnection");
    assert.throws(
      () => flinkRestBackend.validate({ ...common("NEW"), action: undefined, waitForStatus: "STOPPED" } as CommonInputs, (n) => (n === "flinkConnection" ? "c" : undefined)),
      (e: Error) => e instanceof InputError && e.input === "waitForStatus" && /FINISHED/.test(e.message),
    );
  });

  it("takes a jarFile pattern that matches exactly one .jar under the working directory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jarfile-"));
    try {
      fs.mkdirSync(path.join(dir, "target", "deep"), { recursive: true });
      fs.writeFileSync(path.join(dir, "target", "deep", "job-1.0.jar"), "x");
      fs.writeFileSync(path.join(dir, "target", "job-1.0-sources.txt"), "x");
      assert.equal(resolveJarFile("jarFile", "target/**/*.jar", dir).path, path.join(dir, "target", "deep", "job-1.0.jar"));
      assert.equal(resolveJarFile("jarFile", "target/deep/job-1.0.jar", dir).size, 1);
      fs.writeFileSync(path.join(dir, "target", "other.jar"), "y");
      assert.throws(() => resolveJarFile("jarFile", "target/**/*.jar", dir), /matches 2 files .*exactly one/);
      assert.throws(() => resolveJarFile("jarFile", "build/*.jar", dir), /no file matches/);
      assert.throws(() => resolveJarFile("jarFile", "target/*.txt", dir), /not a \.jar/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Flink REST: the connection", () => {
  it("takes None and UsernamePassword, keeps the path prefix, refuses other schemes", () => {
    assert.deepEqual(restEndpoint({ id: "c", url: "https://gw.example.com/flink/orders/", scheme: "None", parameters: {} }, "flinkConnection").baseUrl, "https://gw.example.com/flink/orders");
    assert.deepEqual(restEndpoint({ id: "c", url: "http://10.0.0.5:8081", scheme: "UsernamePassword", parameters: { username: "ci", password: "s3cret" }, data: { allowInsecureHttp: "true" } }, "flinkConnection").basicAuth, {
      username: "ci",
      password: "s3cret",
    });
    assert.throws(() => restEndpoint({ id: "c", url: "http://x", scheme: "Token", parameters: {} }, "flinkConnection"), ConnectionError);
    assert.throws(() => restEndpoint({ id: "c", url: "ftp://x", scheme: "None", parameters: {} }, "flinkConnection"), ConnectionError);
  });
});

describe("Flink REST: servers that are not a healthy Flink", function () {
  this.timeout(30_000);

  it("a server that answers HTML: an error naming the URL, never 'no jobs'", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>Welcome to nginx!</body></html>");
    });
    try {
      await assert.rejects(runAction("STOP", "orders", {}, { url: `${server.url}/flink` }), (e: Error) => e instanceof NotFlinkAnswerError && e.message.includes(`${server.url}/flink/config`) && /nginx/.test(e.message));
    } finally {
      await server.close();
    }
  });

  it("JSON of another shape: an error, not an empty list", async () => {
    const server = await startServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(req.url === "/config" ? JSON.stringify({ "flink-version": "1.20.5", features: {} }) : JSON.stringify({ value: [] }));
    });
    try {
      await assert.rejects(runAction("CANCEL", "orders", {}, { url: server.url }), (e: Error) => e instanceof NotFlinkAnswerError && /jobs\/overview/.test(e.message));
    } finally {
      await server.close();
    }
  });

  it("a cluster that is down: unreachable, naming the URL, after bounded retries of the read", async () => {
    const server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    const client = new FlinkRestClient({ baseUrl: url, userAgent: "t", retryDelayMs: 10 });
    await assert.rejects(client.call({ method: "GET", path: "/config", idempotent: true }), (e: Error) => e instanceof FlinkUnreachableError && e.message.includes(url));
    assert.equal(client.requestCount, 4);
  });

  it("a JobManager failing over (500 with no leader or the job still recovering): not known yet on a read; any other 500 is Flink's answer at once", async () => {
    const server = await startServer((req, res) => {
      res.writeHead(500, { "Content-Type": "application/json" });
      const failingOver = "org.apache.flink.runtime.dispatcher.UnavailableDispatcherOperationException: Unable to get JobMasterGateway: JobManager is initializing";
      res.end(JSON.stringify({ errors: [req.url?.includes("checkpoints") ? failingOver : "java.lang.IllegalStateException: boom"] }));
    });
    try {
      const client = new FlinkRestClient({ baseUrl: server.url, userAgent: "t", retryDelayMs: 10 });
      await assert.rejects(client.call({ method: "GET", path: "/jobs/0123/checkpoints", idempotent: true }), (e: Error) => e instanceof FlinkUnreachableError && /JobManager is initializing/.test(e.message));
      assert.equal(client.requestCount, 4, "retried, then not known yet");
      await assert.rejects(client.call({ method: "GET", path: "/jobs/0123", idempotent: true }), (e: Error) => e instanceof FlinkRestError && /boom/.test(e.message));
      assert.equal(client.requestCount, 5, "an ordinary 500 is not retried");
    } finally {
      await server.close();
    }
  });

  it("Flink's errors[] with status, method and path; basic auth sent; the path prefix kept", async () => {
    let auth = "";
    const server = await startServer((req, res) => {
      auth = req.headers.authorization ?? "";
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ errors: ["Job 0123 not found"] }));
    });
    try {
      const client = new FlinkRestClient({ baseUrl: `${server.url}/prefix`, userAgent: "t", basicAuth: { username: "ci", password: "pw" } });
      await assert.rejects(client.call({ method: "GET", path: "/jobs/0123", idempotent: true }), /Flink answered 404 to GET \/jobs\/0123: Job 0123 not found/);
      assert.deepEqual(server.requests, ["GET /prefix/jobs/0123"]);
      assert.equal(auth, `Basic ${Buffer.from("ci:pw").toString("base64")}`);
    } finally {
      await server.close();
    }
  });

  it("a stop with no savepointDirectory and no cluster default says so, and sends nothing", async () => {
    const jid = `${jobTag("orders")}${"0".repeat(24)}`;
    const server = await startServer((req, res) => {
      const answers: Record<string, unknown> = {
        "/config": { "flink-version": "2.3.0", features: { "web-submit": true } },
        "/jars": { address: "x", files: [] },
        "/jobs/overview": { jobs: [{ jid, name: "orders", state: "RUNNING", "start-time": 1, "end-time": -1 }] },
        "/jobmanager/config": [{ key: "rest.port", value: "8081" }],
      };
      const body = answers[req.url ?? ""];
      res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body ?? { errors: ["Not found: " + req.url] }));
    });
    try {
      await assert.rejects(runAction("STOP", "orders", {}, { url: server.url }), /No savepoint directory for job 'orders'.*execution\.checkpointing\.savepoint-dir/);
      assert.ok(!server.requests.some((r) => r.startsWith("POST")), server.requests.join(", "));
    } finally {
      await server.close();
    }
  });

  it("a gateway's 401 says to check the connection's credentials", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(401, { "WWW-Authenticate": "Basic" });
      res.end("Unauthorized");
    });
    try {
      await assert.rejects(runAction("CANCEL", "orders", {}, { url: server.url }), /401 .*user name and password/);
    } finally {
      await server.close();
    }
  });
});
