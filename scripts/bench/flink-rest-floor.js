// The benchmark's floor for the Flink REST path: one action done the shortest correct way by hand,
// with no checks beyond what the action needs. Upload, run, then read every 100 ms until Flink
// reports it done (GET /jobs/overview for the job's state: GET /jobs/:id may serve a graph cached
// for web.refresh-interval; the savepoint trigger for a stop). Env: FLINK_URL, ACTION (submit |
// stop | start | cancel), JAR, JOB_NAME, JOB_ID, SAVEPOINT. Prints `jobId=<id>` and
// `savepoint=<path>` for the next action.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const PERIOD_MS = 100;
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const url = env("FLINK_URL").replace(/\/+$/, "");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(method, route, body) {
  const response = await fetch(`${url}${route}`, { method, ...(body === undefined ? {} : body instanceof FormData ? { body } : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function waitFor(route, done) {
  for (;;) {
    await sleep(PERIOD_MS);
    const answer = await call("GET", route);
    const result = done(answer);
    if (result) return result;
  }
}

const job = (jobId) => (overview) => overview.jobs.find((j) => j.jid === jobId);

async function run(savepointPath) {
  const jar = env("JAR");
  const form = new FormData();
  form.append("jarfile", new Blob([fs.readFileSync(jar)], { type: "application/x-java-archive" }), path.basename(jar));
  const uploaded = await call("POST", "/jars/upload", form);
  const jarId = path.basename(uploaded.filename);
  const { jobid } = await call("POST", `/jars/${jarId}/run`, { programArgsList: ["--job-name", env("JOB_NAME")], ...(savepointPath ? { savepointPath } : {}) });
  console.log(`jobId=${jobid}`);
  await waitFor("/jobs/overview", (o) => {
    const j = job(jobid)(o);
    return j && j.state === "RUNNING" && j.tasks.total > 0 && j.tasks.running === j.tasks.total;
  });
}

async function main() {
  const action = env("ACTION");
  if (action === "submit") return run(undefined);
  if (action === "start") return run(env("SAVEPOINT"));
  const jobId = env("JOB_ID");
  if (action === "stop") {
    const { "request-id": trigger } = await call("POST", `/jobs/${jobId}/stop`, { drain: false });
    const done = await waitFor(`/jobs/${jobId}/savepoints/${trigger}`, (s) => s.status.id === "COMPLETED" && s);
    if (done.operation["failure-cause"]) throw new Error(JSON.stringify(done.operation["failure-cause"]));
    console.log(`savepoint=${done.operation.location}`);
    return;
  }
  if (action === "cancel") {
    await call("PATCH", `/jobs/${jobId}?mode=cancel`);
    await waitFor("/jobs/overview", (o) => job(jobId)(o)?.state === "CANCELED");
    return;
  }
  throw new Error(`unknown ACTION ${action}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
