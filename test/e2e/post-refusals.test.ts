/**
 * An answered 429 or 503 to the runJob POST is a refusal, not a lost request: the bundled task
 * re-reads every record of the name, then posts again after the (bounded) Retry-After; a record
 * the service created despite its refusal is never submitted twice.
 */
import assert from "node:assert/strict";
import type { TaskRun } from "../harness/agent";
import { runOnEmulator } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";

describe("FlinkJobSubmit when the runJob POST is answered 429 or 503 (bundled task, emulator)", function () {
  this.timeout(240_000);
  const fixture = useEmulator();

  function submit(jobName: string): Promise<TaskRun> {
    const jar = fixture.emulator.knownJar;
    return runOnEmulator(
      fixture.emulator,
      "FlinkJobSubmit",
      { jobName, jobJarDirectory: jar.jobJarDirectory, jarName: jar.jarName, entryClass: jar.entryClass, pollingIntervalInSeconds: "1" },
      { timeoutMs: 200_000 },
    );
  }
  const posts = () => fixture.emulator.log.entries({ route: "runJob", method: "POST" });
  const recordsNamed = (jobName: string) => fixture.emulator.jobs.list().filter((r) => r.properties.jobName === jobName);

  it("a 503 once: the records are read, the POST is sent again, one job runs", async () => {
    fixture.emulator.faults.add({ kind: "status", route: "runJob", status: 503, action: "NEW", times: 1 });
    const run = await submit("refused-503");
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.equal(run.outputs["jobStatus"], "RUNNING");
    assert.deepEqual(
      posts().map((p) => p.status),
      [503, 202],
    );
    const first = posts()[0]!;
    const reread = fixture.emulator.log.entries({ route: "jobs" }).filter((e) => e.seq > first.seq && e.seq < posts()[1]!.seq);
    assert.ok(reread.length >= 1, "the records were not read between the refusal and the second POST");
    assert.equal(recordsNamed("refused-503").length, 1);
  });

  it("a 429 with Retry-After once: the second POST waits for it", async () => {
    fixture.emulator.faults.add({ kind: "status", route: "runJob", status: 429, retryAfterSec: 3, action: "NEW", times: 1 });
    const run = await submit("refused-429");
    assert.equal(run.result, "Succeeded", run.resultMessage);
    const [refused, accepted] = posts();
    assert.equal(refused?.status, 429);
    assert.equal(accepted?.status, 202);
    assert.ok(accepted!.wallTime - refused!.wallTime >= 3000, `posted again after ${accepted!.wallTime - refused!.wallTime} ms, before Retry-After`);
    assert.equal(recordsNamed("refused-429").length, 1);
  });

  it("a 503 answered although the service created the record: no second POST, no second job", async () => {
    fixture.emulator.faults.add({ kind: "statusAfter", route: "runJob", status: 503, action: "NEW", times: 1 });
    const run = await submit("refused-but-created");
    assert.equal(run.result, "Succeeded", `${run.resultMessage}\n${run.stdout}`);
    assert.equal(posts().length, 1, `NEW was posted twice\n${run.stdout}`);
    assert.equal(recordsNamed("refused-but-created").length, 1);
    assert.equal(run.outputs["jobStatus"], "RUNNING");
  });

  it("refused every time: fails with the service's words and request id; the re-run submits once", async () => {
    fixture.emulator.faults.add({ kind: "status", route: "runJob", status: 503, action: "NEW", times: 3 });
    const run = await submit("refused-always");
    assert.equal(run.result, "Failed");
    assert.match(run.resultMessage ?? "", /503 ServerBusy|503 ServiceUnavailable|returned 503/);
    assert.ok(run.resultMessage!.includes(posts().at(-1)!.requestId!), run.resultMessage);
    assert.equal(recordsNamed("refused-always").length, 0);
    fixture.emulator.log.clear();
    const again = await submit("refused-always");
    assert.equal(again.result, "Succeeded", again.resultMessage);
    assert.equal(posts().length, 1);
    assert.equal(recordsNamed("refused-always").length, 1);
  });
});
