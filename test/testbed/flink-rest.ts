// Plain-fetch helpers for the test bed's own tests (not our client): REST calls, jar upload, waits.
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { FlinkCluster } from "../../testbed/flink/cluster";

export interface Reply {
  status: number;
  body: any;
}

export async function rest(cluster: FlinkCluster, method: string, route: string, body?: unknown): Promise<Reply> {
  const response = await fetch(cluster.restUrl + route, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export async function uploadJar(cluster: FlinkCluster, jarPath: string): Promise<string> {
  const form = new FormData();
  form.append("jarfile", new Blob([await fs.readFile(jarPath)], { type: "application/java-archive" }), path.basename(jarPath));
  const response = await fetch(`${cluster.restUrl}/jars/upload`, { method: "POST", body: form });
  const body = (await response.json()) as { status?: string; filename?: string };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.status, "success");
  return path.basename(body.filename!); // the jar id is the stored file's name
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function newJobId(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function jobState(cluster: FlinkCluster, jobId: string): Promise<string | undefined> {
  const { status, body } = await rest(cluster, "GET", "/jobs/overview");
  assert.equal(status, 200);
  return (body.jobs as { jid: string; state: string }[]).find((job) => job.jid === jobId)?.state;
}

/** RUNNING with every task deployed and running (the job state alone says RUNNING while tasks wait for slots). */
export async function waitRunning(cluster: FlinkCluster, jobId: string): Promise<any> {
  return waitFor(`job ${jobId} and all its tasks RUNNING`, async () => {
    const { status, body } = await rest(cluster, "GET", `/jobs/${jobId}`);
    if (status !== 200) return undefined;
    assert.notEqual(body.state, "FAILED", `job ${jobId} failed`);
    return body.state === "RUNNING" && body.vertices.every((v: any) => v.status === "RUNNING") ? body : undefined;
  });
}

export async function waitState(cluster: FlinkCluster, jobId: string, state: string): Promise<void> {
  await waitFor(`job ${jobId} ${state}`, async () => ((await jobState(cluster, jobId)) === state ? true : undefined));
}

