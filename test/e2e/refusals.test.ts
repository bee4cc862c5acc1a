/** Actions that cannot work on the job as it is are refused before anything is posted, saying what to do instead. */
import assert from "node:assert/strict";
import { runOnEmulator } from "../harness/emulator-connections";
import { useEmulator } from "../harness/emulator-fixture";

describe("refused before posting, with what to do instead", function () {
  this.timeout(120_000);
  const fixture = useEmulator();
  const runJobCalls = () => fixture.emulator.log.entries({ route: "runJob" }).length;

  it("FlinkJobStart on a running job", async () => {
    fixture.emulator.jobs.seedRunning("start-running");
    const r = await runOnEmulator(fixture.emulator, "FlinkJobStart", { jobName: "start-running" });
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /Job 'start-running' is RUNNING \(runId job-[0-9a-f-]+, jobId [0-9a-f]{32}\), so START was not posted\. It is already running: to run new arguments use FlinkJobUpdate; to restart it from a savepoint, stop it with FlinkJobStop first\./);
    assert.equal(runJobCalls(), 0);
  });

  it("FlinkSavepoint (trigger) on a stopped job", async () => {
    fixture.emulator.jobs.seedRunning("savepoint-stopped", { action: "STOP", status: "STOPPED" });
    const r = await runOnEmulator(fixture.emulator, "FlinkSavepoint", { jobName: "savepoint-stopped", operation: "trigger" });
    assert.equal(r.result, "Failed");
    assert.match(r.resultMessage ?? "", /Job 'savepoint-stopped' is STOPPED .*so SAVEPOINT was not posted\. Only a running job can take a savepoint/);
    assert.equal(runJobCalls(), 0);
  });
});
