/**
 * The one flow (src/run-task.ts) in memory, with a fake pipeline host and a fake backend: what it
 * does with the outcome whatever the kind of cluster.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { WaitTimeoutError } from "../../src/errors";
import type { ActionOutcome, Backend, BackendModule, StatusOutcome } from "../../src/jobs/backend";
import type { PipelineHost } from "../../src/pipeline/host";
import { MAX_JOBS_OUTPUT_CHARS } from "../../src/report/outputs";
import { executeTask } from "../../src/run-task";
import { TASKS } from "../../src/tasks";

class FakeHost implements PipelineHost {
  readonly outputs: Record<string, string> = {};
  readonly warnings: string[] = [];
  readonly summaries: string[] = [];
  failSummary = false;
  readonly userAgent = "test";
  readonly logger = { info: () => {}, debug: () => {}, warning: (m: string) => void this.warnings.push(m) };
  constructor(private readonly inputs: Record<string, string>) {}
  input(name: string) {
    return this.inputs[name];
  }
  serviceConnection(): never {
    throw new Error("the fake backend needs no connection");
  }
  endpoint(): never {
    throw new Error("the fake backend needs no connection");
  }
  workingDirectory() {
    return process.cwd();
  }
  network() {
    return {};
  }
  setSecret() {}
  setOutput(name: string, value: string) {
    this.outputs[name] = value;
  }
  uploadSummary(_title: string, markdown: string) {
    if (this.failSummary) throw new Error("ENOSPC: no space left on device");
    this.summaries.push(markdown);
  }
}

function backendModule(behaviour: { act?: () => Promise<ActionOutcome>; readStatus?: () => Promise<StatusOutcome>; summaryFacts?: Backend<object>["summaryFacts"] }): BackendModule<object> {
  const backend: Backend<object> = {
    target: "hdinsightAks",
    describe: () => [["Cluster", "c1"]],
    act: behaviour.act ?? (() => Promise.reject(new Error("no act"))),
    readStatus: behaviour.readStatus ?? (() => Promise.reject(new Error("no read"))),
    ...(behaviour.summaryFacts ? { summaryFacts: behaviour.summaryFacts } : {}),
    close: () => {},
  };
  return { target: "hdinsightAks", validate: () => ({}), connect: () => backend };
}

describe("the flow (run-task) with a fake backend", () => {
  it("a failing summary upload does not replace the step's result", async () => {
    const host = new FakeHost({ jobName: "orders" });
    host.failSummary = true;
    const outputs = await executeTask(TASKS.FlinkJobCancel, host, undefined, () =>
      backendModule({ act: async () => ({ actionResult: "SUCCESS", job: { jobName: "orders", jobStatus: "CANCELED" } }) }),
    );
    assert.equal(outputs.actionResult, "SUCCESS");
    assert.equal(host.outputs["jobStatus"], "CANCELED");
    assert.match(host.warnings.join("\n"), /Could not attach the run summary: ENOSPC/);
  });

  it("a wait that times out still sets the job's outputs, without claiming a result", async () => {
    const host = new FakeHost({ jobName: "orders" });
    const timeout = new WaitTimeoutError("Timed out after 1 minute waiting for STOP on job 'orders'.", { jobName: "orders", runId: "job-1", jobStatus: "RUNNING", jobId: "25e318907f786a2c6aee392df6580035" });
    await assert.rejects(executeTask(TASKS.FlinkJobStop, host, undefined, () => backendModule({ act: () => Promise.reject(timeout) })), WaitTimeoutError);
    assert.deepEqual(host.outputs, { jobName: "orders", runId: "job-1", jobStatus: "RUNNING", jobId: "25e318907f786a2c6aee392df6580035" });
    assert.match(host.summaries[0]!, /Timed out after 1 minute/);
  });

  it("caps the jobs output below the environment's limit, with whole records, and says so", async () => {
    const jobs = Array.from({ length: 305 }, (_, i) => ({ jobName: `job-${i}`, status: "RUNNING", jobOutput: "x".repeat(500) }));
    const host = new FakeHost({});
    const outputs = await executeTask(TASKS.FlinkJobStatus, host, undefined, () => backendModule({ readStatus: async () => ({ jobs }) }));
    assert.ok(outputs.jobs!.length <= MAX_JOBS_OUTPUT_CHARS, `${outputs.jobs!.length} characters`);
    const kept = JSON.parse(outputs.jobs!) as unknown[];
    assert.ok(kept.length > 100 && kept.length < 305);
    assert.equal(outputs.jobCount, "305");
    assert.match(host.warnings.join("\n"), new RegExp(`The jobs output holds the first ${kept.length} of 305 records`));
    assert.match(host.summaries[0]!, /holds the first/);
  });

  it("a cancellation while reading says it was the pipeline's, and that nothing was changed", async () => {
    const host = new FakeHost({ jobName: "orders" });
    const cancel = new AbortController();
    const read = () =>
      new Promise<StatusOutcome>((_, reject) => {
        cancel.signal.addEventListener("abort", () => reject(cancel.signal.reason));
        cancel.abort(new Error("received SIGTERM"));
      });
    await assert.rejects(executeTask(TASKS.FlinkJobStatus, host, cancel.signal, () => backendModule({ readStatus: read })), /The pipeline was cancelled \(received SIGTERM\) while reading job 'orders'; nothing was changed/);
  });
});

describe("the flow's run summary", () => {
  it("shows the outcome's notes, the backend's facts read after the action, and what the step logged, in time", async () => {
    const host = new FakeHost({ jobName: "orders" });
    let asked: unknown;
    await executeTask(TASKS.FlinkJobCancel, host, undefined, () =>
      backendModule({
        act: async () => ({ actionResult: "SUCCESS", job: { jobName: "orders", jobStatus: "CANCELED", jobId: "a".repeat(32) }, notes: ["Health: RUNNING for 60 s"] }),
        summaryFacts: async (job) => {
          asked = job;
          return { links: [["This job in Flink's web UI", "http://flink:8081/#/job/completed/x/overview"]] };
        },
      }),
    );
    assert.deepEqual(asked, { jobName: "orders", jobId: "a".repeat(32), jobStatus: "CANCELED" });
    const summary = host.summaries[0]!;
    assert.match(summary, /\[This job in Flink's web UI\]\(http:\/\/flink:8081\/#\/job\/completed\/x\/overview\)/);
    assert.match(summary, /\*Health: RUNNING for 60 s\*/);
  });

  it("a failing read of the facts leaves the step's result and the summary without them", async () => {
    const host = new FakeHost({ jobName: "orders" });
    const outputs = await executeTask(TASKS.FlinkJobCancel, host, undefined, () =>
      backendModule({ act: async () => ({ actionResult: "SUCCESS", job: { jobName: "orders", jobStatus: "CANCELED" } }), summaryFacts: () => Promise.reject(new Error("ECONNRESET")) }),
    );
    assert.equal(outputs.actionResult, "SUCCESS");
    assert.match(host.summaries[0]!, /\| Result \| SUCCESS \|/);
    assert.doesNotMatch(host.summaries[0]!, /web UI/);
  });
});

describe("loading the flow", () => {
  it("prints nothing: task-lib, which writes ##vso[task.debug] lines as it loads, is loaded by a task's entry point only", () => {
    const out = execFileSync(process.execPath, ["-r", "tsx/cjs", "-e", "require('./src/run-task.ts')"], { cwd: path.resolve(__dirname, "../.."), encoding: "utf8" });
    assert.equal(out, "");
  });
});
