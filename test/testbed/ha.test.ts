// The fault test beds themselves, with plain fetch (not our client): a standalone ZooKeeper from
// Debian's package, a Flink cluster with ZooKeeper JobManager high availability whose JobManager
// is killed and started again, and the test job's slow snapshots (a savepoint that stays
// IN_PROGRESS long enough to act during it).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { flinkVersionsUnderTest, useSharedFlinkCluster } from "../../testbed/flink/mocha";
import { fourLetterWord, startZooKeeper } from "../../testbed/zookeeper";
import { newJobId, rest, uploadJar, waitFor, waitRunning, waitState } from "./flink-rest";

const localPath = (uri: string) => fileURLToPath(new URL(uri.replace(/^file:\/(?!\/)/, "file:///")));

describe("ZooKeeper test bed (Debian's zookeeper package)", function () {
  this.timeout(90_000);

  it("starts a standalone server on a free loopback port with its own data dir, and stop() leaves nothing", async () => {
    const zooKeeper = await startZooKeeper();
    try {
      assert.match(zooKeeper.connectString, /^127\.0\.0\.1:\d+$/);
      assert.equal(await fourLetterWord(zooKeeper.port, "ruok"), "imok");
      assert.match(await fourLetterWord(zooKeeper.port, "srvr"), /Mode: standalone/);
      assert.ok(existsSync(path.join(zooKeeper.dir, "data")));
    } finally {
      await zooKeeper.stop();
    }
    assert.equal(await fourLetterWord(zooKeeper.port, "ruok"), "", "nothing answers after stop()");
    assert.ok(!existsSync(zooKeeper.dir), "its dir is removed");
  });
});

for (const version of flinkVersionsUnderTest()) {
  describe(`Flink ${version} with JobManager high availability (ZooKeeper)`, function () {
    this.timeout(300_000);
    // Shared with the failover suite (test/flink-rest/failover.test.ts): one HA cluster per version.
    const flink = useSharedFlinkCluster(version, { ha: true, checkpointIntervalMs: 1000 });
    let jarId: string;
    before(async () => {
      jarId = await uploadJar(flink.cluster, flink.jars.v1);
    });

    const runJar = (body: Record<string, unknown>) => rest(flink.cluster, "POST", `/jars/${jarId}/run`, body);

    it("is configured for ZooKeeper HA with its own cluster-id and storage dir on local disk", () => {
      const { config, highAvailability } = flink.cluster;
      assert.ok(highAvailability);
      assert.equal(config["high-availability.type"], "zookeeper");
      assert.equal(config["high-availability.zookeeper.quorum"], highAvailability.zooKeeper.connectString);
      assert.equal(config["high-availability.cluster-id"], highAvailability.clusterId);
      assert.equal(localPath(String(config["high-availability.storageDir"])), highAvailability.storageDir);
    });

    it("a killed JobManager started again recovers the job with its JobID from its latest checkpoint", async () => {
      const jobId = newJobId();
      assert.equal((await runJar({ jobId })).status, 200);
      await waitRunning(flink.cluster, jobId);
      const before = await waitFor("a completed checkpoint", async () => {
        const { body } = await rest(flink.cluster, "GET", `/jobs/${jobId}/checkpoints`);
        return body.latest?.completed ?? undefined;
      });
      // The HA storage dir holds the job graph and checkpoint metadata ZooKeeper points to.
      assert.ok(existsSync(flink.cluster.highAvailability!.storageDir));

      await flink.cluster.killJobManager();
      await assert.rejects(fetch(`${flink.cluster.restUrl}/overview`), "the REST API is gone with the JobManager");
      await flink.cluster.restartJobManager();

      const running = await waitRunning(flink.cluster, jobId);
      assert.equal(running.jid, jobId);
      const restored = await waitFor("latest.restored after the failover", async () => {
        const { status, body } = await rest(flink.cluster, "GET", `/jobs/${jobId}/checkpoints`);
        return status === 200 ? (body.latest?.restored ?? undefined) : undefined;
      });
      assert.equal(restored.is_savepoint, false, JSON.stringify(restored));
      assert.ok(restored.id >= before.id, `restored checkpoint ${restored.id} is not older than ${before.id} (seen before the kill)`);
      assert.ok(localPath(restored.external_path).startsWith(path.join(flink.cluster.checkpointDir, jobId)), restored.external_path);
      const { body: overview } = await rest(flink.cluster, "GET", "/jobs/overview");
      assert.deepEqual(overview.jobs.filter((job: { jid: string }) => job.jid === jobId).map((job: { state: string }) => job.state), ["RUNNING"],
        "one job with that JobID, running");
      assert.equal((await rest(flink.cluster, "PATCH", `/jobs/${jobId}?mode=cancel`)).status, 202);
      await waitState(flink.cluster, jobId, "CANCELED");
    });

    it("--snapshot-sleep-ms keeps a savepoint IN_PROGRESS while the operator snapshots, then it completes", async () => {
      const jobId = newJobId();
      // 1.20 and 2.x accept the jar again after the failover: it lives in web.upload.dir.
      assert.equal((await runJar({ jobId, programArgsList: ["--snapshot-sleep-ms", "6000"] })).status, 200);
      await waitRunning(flink.cluster, jobId);
      const trigger = await rest(flink.cluster, "POST", `/jobs/${jobId}/savepoints`, { "cancel-job": false });
      assert.equal(trigger.status, 202, JSON.stringify(trigger.body));
      const status = async () => (await rest(flink.cluster, "GET", `/jobs/${jobId}/savepoints/${trigger.body["request-id"]}`)).body;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal((await status()).status.id, "IN_PROGRESS", "still snapshotting 2 s into a 6 s snapshot");
      const done = await waitFor("the savepoint", async () => ((await status()).status.id === "COMPLETED" ? await status() : undefined));
      assert.ok(existsSync(path.join(localPath(done.operation.location), "_metadata")), done.operation.location);
      assert.equal((await rest(flink.cluster, "PATCH", `/jobs/${jobId}?mode=cancel`)).status, 202);
      await waitState(flink.cluster, jobId, "CANCELED");
    });
  });
}
