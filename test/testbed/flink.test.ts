// The Flink test bed itself, against a real session cluster of each version under test, with
// plain fetch (not our client): upload, run with a chosen JobID, stop with a savepoint, restore
// from it, failure switches of the test job, and the REST facts the client relies on per version.
import assert from "node:assert/strict";
import { existsSync, promises as fs, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { flinkHomePath, installFlink } from "../../testbed/flink/install";
import { flinkVersionsUnderTest, useFlinkCluster, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { flinkMajor } from "../../testbed/flink/versions";
import { jobState, newJobId, rest, uploadJar, waitFor, waitRunning, waitState } from "./flink-rest";

for (const version of flinkVersionsUnderTest()) {
  describe(`Flink ${version} test bed (a real session cluster)`, function () {
    this.timeout(180_000);
    const flink = useSharedFlinkCluster(version, { checkpointIntervalMs: 1000 });
    const runJar = (jarId: string, body: Record<string, unknown>) => rest(flink.cluster, "POST", `/jars/${jarId}/run`, body);
    let v1JarId: string;

    before(async function () {
      this.timeout(60_000);
      v1JarId = await uploadJar(flink.cluster, flink.jars.v1);
    });

    // Free the slots for the next test: cancel whatever still runs.
    afterEach(async function () {
      this.timeout(60_000);
      const { body } = await rest(flink.cluster, "GET", "/jobs/overview");
      const running = (body.jobs as { jid: string; state: string }[]).filter((job) => !["FINISHED", "CANCELED", "FAILED"].includes(job.state));
      for (const job of running) await rest(flink.cluster, "PATCH", `/jobs/${job.jid}?mode=cancel`);
      for (const job of running) await waitFor(`job ${job.jid} to end`, async () => {
        const state = await jobState(flink.cluster, job.jid);
        return state && ["CANCELED", "FAILED", "FINISHED"].includes(state) ? true : undefined;
      });
    });

    it("installed a complete FLINK_HOME once: a second install is a no-op", async () => {
      const home = flinkHomePath(version);
      assert.equal(flink.cluster.home, home);
      const marker = path.join(home, ".testbed-installed.json");
      const before = statSync(marker).mtimeMs;
      assert.equal(await installFlink(version), home);
      assert.equal(statSync(marker).mtimeMs, before);
      for (const script of ["jobmanager.sh", "taskmanager.sh", "flink"]) {
        assert.ok(statSync(path.join(home, "bin", script)).mode & 0o100, `bin/${script} is executable`);
      }
    });

    it("reports its version, one TaskManager with 4 slots, and serves /jars", async () => {
      const config = await rest(flink.cluster, "GET", "/config");
      assert.equal(config.body["flink-version"], version);
      const overview = await rest(flink.cluster, "GET", "/overview");
      assert.equal(overview.body.taskmanagers, 1);
      assert.equal(overview.body["slots-total"], 4);
      const jars = await rest(flink.cluster, "GET", "/jars");
      assert.equal(jars.status, 200);
      assert.ok(jars.body.files.some((file: { id: string }) => file.id === v1JarId));
    });

    it("runs the job with our JobID, stops it with a savepoint on disk, and restores the v2 jar from it", async () => {
      const first = newJobId();
      const run = await runJar(v1JarId, { jobId: first });
      assert.equal(run.status, 200, JSON.stringify(run.body));
      assert.equal(run.body.jobid, first);
      const details = await waitRunning(flink.cluster, first);
      assert.ok(details.vertices.some((v: { name: string }) => v.name.includes("count v1")), JSON.stringify(details.vertices));

      const stop = await rest(flink.cluster, "POST", `/jobs/${first}/stop`, { drain: false });
      assert.equal(stop.status, 202, JSON.stringify(stop.body));
      const savepoint = await waitFor("the stop's savepoint", async () => {
        const { body } = await rest(flink.cluster, "GET", `/jobs/${first}/savepoints/${stop.body["request-id"]}`);
        return body.status.id === "COMPLETED" ? body.operation : undefined;
      });
      assert.equal(savepoint["failure-cause"], undefined, JSON.stringify(savepoint));
      const location = fileURLToPath(new URL(savepoint.location.replace(/^file:\/(?!\/)/, "file:///")));
      assert.equal(path.dirname(location), flink.cluster.savepointDir, "the cluster's default savepoint dir");
      assert.ok(existsSync(path.join(location, "_metadata")),
        `${location}/_metadata exists; ${savepoint.location} ${JSON.stringify(readdirSync(flink.cluster.savepointDir, { recursive: true }))}`);
      await waitState(flink.cluster, first, "FINISHED");

      const v2JarId = await uploadJar(flink.cluster, flink.jars.v2);
      const second = newJobId();
      const restore = await runJar(v2JarId, { jobId: second, savepointPath: savepoint.location, claimMode: "NO_CLAIM" });
      assert.equal(restore.status, 200, JSON.stringify(restore.body));
      const restored = await waitRunning(flink.cluster, second);
      assert.ok(restored.vertices.some((v: { name: string }) => v.name.includes("count v2")));
      const latest = await waitFor("latest.restored", async () => {
        const { body } = await rest(flink.cluster, "GET", `/jobs/${second}/checkpoints`);
        return body.latest?.restored ?? undefined;
      });
      assert.equal(latest.is_savepoint, true);
      assert.equal(latest.external_path, savepoint.location);
    });

    it("takes periodic checkpoints into the checkpoint dir and retains them on cancel", async () => {
      const jobId = newJobId();
      assert.equal((await runJar(v1JarId, { jobId })).status, 200);
      await waitRunning(flink.cluster, jobId);
      const completed = await waitFor("a completed checkpoint", async () => {
        const { body } = await rest(flink.cluster, "GET", `/jobs/${jobId}/checkpoints`);
        return body.latest?.completed ?? undefined;
      });
      assert.equal(await rest(flink.cluster, "PATCH", `/jobs/${jobId}?mode=cancel`).then((r) => r.status), 202);
      await waitState(flink.cluster, jobId, "CANCELED");
      const dir = fileURLToPath(new URL(completed.external_path.replace(/^file:\/(?!\/)/, "file:///")));
      assert.ok(dir.startsWith(path.join(flink.cluster.checkpointDir, jobId)), dir);
      assert.ok(existsSync(path.join(dir, "_metadata")), `${dir}/_metadata retained after cancel`);
    });

    it("--fail-after-seconds makes the job FAILED (no restarts) with the job's exception", async () => {
      const jobId = newJobId();
      assert.equal((await runJar(v1JarId, { jobId, programArgsList: ["--fail-after-seconds", "1"] })).status, 200);
      await waitState(flink.cluster, jobId, "FAILED");
      const { body } = await rest(flink.cluster, "GET", `/jobs/${jobId}/exceptions`);
      assert.match(JSON.stringify(body), /failing on purpose after --fail-after-seconds 1/);
    });

    it("--job-name names the job in /jobs/overview; without it the job has Flink's default name", async () => {
      const named = newJobId();
      const unnamed = newJobId();
      assert.equal((await runJar(v1JarId, { jobId: named, programArgsList: ["--job-name", "testbed named job"] })).status, 200);
      assert.equal((await runJar(v1JarId, { jobId: unnamed })).status, 200);
      const { body } = await rest(flink.cluster, "GET", "/jobs/overview");
      const name = (id: string) => body.jobs.find((job: { jid: string }) => job.jid === id)?.name;
      assert.equal(name(named), "testbed named job");
      assert.equal(name(unnamed), "Flink Streaming Job");
    });

    it("a main() that throws is refused with 400 'Could not execute application' and its cause", async () => {
      const jobId = newJobId();
      const run = await runJar(v1JarId, { jobId, programArgsList: ["--throw-in-main"] });
      assert.equal(run.status, 400);
      assert.match(run.body.errors.join("\n"), /Could not execute application/);
      assert.match(run.body.errors.join("\n"), /--throw-in-main was given, main\(\) fails before execute\(\)/);
      assert.equal(await jobState(flink.cluster, jobId), undefined, "no job was created");
    });

    it("the jar without Main-Class needs entryClass (without it: 500, as for a wrong entryClass)", async () => {
      const jarId = await uploadJar(flink.cluster, flink.jars.v1NoMainClass);
      const without = await runJar(jarId, {});
      assert.equal(without.status, 500, JSON.stringify(without.body));
      assert.match(without.body.errors.join("\n"), /Neither a 'Main-Class', nor a 'program-class' entry was found in the jar file/);
      const wrong = await runJar(jarId, { entryClass: "no.such.Main" });
      assert.equal(wrong.status, 500, JSON.stringify(wrong.body));
      assert.match(wrong.body.errors.join("\n"), /The program's entry point class 'no.such.Main' was not found in the jar file/);
      const jobId = newJobId();
      assert.equal((await runJar(jarId, { jobId, entryClass: flink.jars.entryClass })).status, 200);
      await waitRunning(flink.cluster, jobId);
    });

    describe("request-body facts the client relies on", () => {
      it(`the string programArgs is ${flinkMajor(version) >= 2 ? "accepted but ignored (2.x)" : "applied (1.x)"}`, async () => {
        const jobId = newJobId();
        const run = await runJar(v1JarId, { jobId, programArgs: "--job-name from-programArgs" });
        assert.equal(run.status, 200, JSON.stringify(run.body));
        const { body } = await rest(flink.cluster, "GET", "/jobs/overview");
        const name = body.jobs.find((job: { jid: string }) => job.jid === jobId)?.name;
        assert.equal(name, flinkMajor(version) >= 2 ? "Flink Streaming Job" : "from-programArgs");
      });

      it("claimMode and restoreMode are both accepted", async () => {
        for (const field of ["claimMode", "restoreMode"]) {
          const jobId = newJobId();
          const run = await runJar(v1JarId, { jobId, [field]: "NO_CLAIM" });
          assert.equal(run.status, 200, `${field}: ${JSON.stringify(run.body)}`);
          assert.equal(run.body.jobid, jobId);
        }
      });

      it("an unknown field is ignored, an invalid enum value is 400 'Request did not match expected format'", async () => {
        const unknown = await runJar(v1JarId, { jobId: newJobId(), noSuchField: 1 });
        assert.equal(unknown.status, 200, JSON.stringify(unknown.body));
        const invalid = await runJar(v1JarId, { claimMode: "NO_SUCH_MODE" });
        assert.equal(invalid.status, 400);
        assert.match(invalid.body.errors.join("\n"), /Request did not match expected format JarRunRequestBody/);
      });

      it("a JobID already in use is refused", async () => {
        const jobId = newJobId();
        assert.equal((await runJar(v1JarId, { jobId })).status, 200);
        const again = await runJar(v1JarId, { jobId });
        assert.equal(again.status, 400, JSON.stringify(again.body));
        // 1.20: DuplicateJobSubmissionException "Job has already been submitted."; 2.3: DuplicateApplicationSubmissionException.
        assert.match(again.body.errors.join("\n"), /(Job|Application) has already been submitted/);
      });
    });

    // Last: it replaces the TaskManager.
    it("killTaskManager fails the running job; startTaskManager brings the slots back", async () => {
      const jobId = newJobId();
      assert.equal((await runJar(v1JarId, { jobId })).status, 200);
      await waitRunning(flink.cluster, jobId);
      await flink.cluster.killTaskManager();
      assert.equal(flink.cluster.taskManagerPid(), undefined);
      await waitState(flink.cluster, jobId, "FAILED");
      await flink.cluster.startTaskManager();
      const again = newJobId();
      assert.equal((await runJar(v1JarId, { jobId: again })).status, 200);
      await waitRunning(flink.cluster, again);
    });
  });
}

// One more (short-lived) cluster, on the newest version under test: extraConfig reaches
// config.yaml, and readiness follows web submission being off (GET /jars is then 404).
describe("Flink test bed: extraConfig (web submission disabled)", function () {
  this.timeout(180_000);
  const version = flinkVersionsUnderTest().at(-1)!;
  const flink = useFlinkCluster(version, { slots: 2, extraConfig: { "web.submit.enable": false } });

  it(`Flink ${version} without web submission: /jars is 404, /config says web-submit false`, async () => {
    const jars = await fetch(`${flink.cluster.restUrl}/jars`);
    assert.equal(jars.status, 404);
    const config = (await (await fetch(`${flink.cluster.restUrl}/config`)).json()) as any;
    assert.equal(config.features["web-submit"], false);
    const overview = (await (await fetch(`${flink.cluster.restUrl}/overview`)).json()) as any;
    assert.equal(overview["slots-total"], 2);
    assert.equal(flink.cluster.config["execution.checkpointing.interval"], undefined, "no periodic checkpoints unless asked");
    assert.match(await fs.readFile(path.join(flink.cluster.confDir, "config.yaml"), "utf8"), /^web\.submit\.enable: false$/m);
  });
});
