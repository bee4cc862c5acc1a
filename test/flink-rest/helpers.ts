/**
 * Runs the Flink REST backend in-process against a real cluster of the test bed: a PipelineHost
 * that reads inputs from a map and the ApacheFlink connection from the test, and keeps the log.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { flinkRestBackend } from "../../src/backends/flink-rest";
import type { ActionOutcome, CommonInputs, JobAction, StatusOutcome } from "../../src/jobs/backend";
import type { EndpointConnection, PipelineHost } from "../../src/pipeline/host";
import { tempDir } from "../harness/temp";

export interface FakeHost extends PipelineHost {
  lines: string[];
  secrets: string[];
}

export function fakeHost(connection: EndpointConnection, workingDirectory: string): FakeHost {
  const lines: string[] = [];
  const secrets: string[] = [];
  return {
    lines,
    secrets,
    logger: { info: (m) => lines.push(m), warning: (m) => lines.push(`WARNING ${m}`), debug: (m) => lines.push(`DEBUG ${m}`) },
    userAgent: "flink-rest-test",
    input: () => undefined,
    serviceConnection: () => {
      throw new Error("no Azure connection in these tests");
    },
    endpoint: () => connection,
    workingDirectory: () => workingDirectory,
    network: () => ({}),
    setSecret: (v) => secrets.push(v),
    setOutput: () => undefined,
    uploadSummary: () => undefined,
  };
}

export interface RunOptions {
  url: string;
  scheme?: string;
  parameters?: Record<string, string>;
  workingDirectory?: string;
  waitForCompletion?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function common(action: JobAction | undefined, jobName: string | undefined, options: RunOptions, waitForStatus?: string): CommonInputs {
  return {
    target: "flinkRest",
    ...(jobName ? { jobName } : {}),
    ...(action ? { action } : {}),
    ...(waitForStatus ? { waitForStatus } : {}),
    waitForCompletion: options.waitForCompletion ?? true,
    timeoutMs: options.timeoutMs ?? 180_000,
    maxPollIntervalMs: 1000,
  };
}

/** One action through validate → connect → act, as the flow calls it. */
export async function runAction(
  action: JobAction,
  jobName: string,
  inputs: Record<string, string>,
  options: RunOptions,
): Promise<{ outcome: ActionOutcome; host: FakeHost }> {
  const c = common(action, jobName, options);
  const raw = (name: string) => (name === "flinkConnection" ? "flink" : inputs[name]);
  const validated = flinkRestBackend.validate(c, raw);
  const host = fakeHost(
    { id: "flink", url: options.url, scheme: options.scheme ?? "None", parameters: options.parameters ?? {} },
    options.workingDirectory ?? os.tmpdir(),
  );
  const backend = flinkRestBackend.connect(host, c, validated);
  try {
    const outcome = await backend.act(
      { action, jobName, inputs: validated },
      { timeoutMs: c.timeoutMs, waitForCompletion: c.waitForCompletion, maxPollIntervalMs: c.maxPollIntervalMs, logger: host.logger, ...(options.signal ? { signal: options.signal } : {}) },
    );
    return { outcome, host };
  } finally {
    backend.close();
  }
}

export async function readStatus(jobName: string | undefined, options: RunOptions & { waitForStatus?: string }): Promise<StatusOutcome> {
  const c = common(undefined, jobName, options, options.waitForStatus);
  const validated = flinkRestBackend.validate(c, (name) => (name === "flinkConnection" ? "flink" : undefined));
  const host = fakeHost({ id: "flink", url: options.url, scheme: "None", parameters: {} }, os.tmpdir());
  const backend = flinkRestBackend.connect(host, c, validated);
  try {
    return await backend.readStatus(
      { ...(jobName ? { jobName } : {}), ...(options.waitForStatus ? { waitForStatus: options.waitForStatus } : {}) },
      { timeoutMs: c.timeoutMs, waitForCompletion: true, maxPollIntervalMs: 1000, logger: host.logger },
    );
  } finally {
    backend.close();
  }
}

/** GET a Flink REST path as JSON, straight, to check the effect on Flink itself. */
export async function flinkGet<T = Record<string, unknown>>(restUrl: string, p: string): Promise<T> {
  const response = await fetch(`${restUrl}${p}`);
  if (!response.ok) throw new Error(`GET ${p}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Uploads and runs a jar the way Flink's UI or CLI does: no JobID of ours. Returns the JobID Flink chose. */
export async function runOutsideTheTasks(url: string, jarPath: string, args: string[]): Promise<string> {
  const form = new FormData();
  form.append("jarfile", new Blob([fs.readFileSync(jarPath)], { type: "application/x-java-archive" }), "legacy.jar");
  const upload = (await (await fetch(`${url}/jars/upload`, { method: "POST", body: form })).json()) as { filename: string };
  const jarId = upload.filename.split("/").pop()!;
  const run = await fetch(`${url}/jars/${jarId}/run`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ programArgsList: args }) });
  return ((await run.json()) as { jobid: string }).jobid;
}

/**
 * A job's state as Flink reports it now (GET /jobs/overview): GET /jobs/:id may serve a graph
 * cached for web.refresh-interval, and so show a job that just ended as still running.
 */
export async function flinkJobState(restUrl: string, jobId: string): Promise<string | undefined> {
  return (await flinkGet<{ jobs: Array<{ jid: string; state: string }> }>(restUrl, "/jobs/overview")).jobs.find((j) => j.jid === jobId)?.state;
}

/** A working directory holding copies of the given jars, as a pipeline's checkout would. */
export function workspaceWith(jars: Record<string, string>): string {
  const dir = tempDir("flink-rest-ws-");
  for (const [name, source] of Object.entries(jars)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.copyFileSync(source, path.join(dir, name));
  }
  return dir;
}

/** Passes a request on to `url` (method, headers, body) and its answer back: a gateway's upstream call. */
export function forward(url: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const upstream = http.request(url, { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  req.pipe(upstream);
}

/** A plain HTTP server on 127.0.0.1 answering every request with `handler`. */
export async function startServer(handler: http.RequestListener): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
