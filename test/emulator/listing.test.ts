import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../emulator/index";
import { actionBody, armToken, clusterPath, jobsNamed, listJobs, newJobBody, request, runToEnd, uniqueName, V2023_06, V2023_11, V2024 } from "./helpers";

describe("emulator: job list, paging, $filter and api-version differences", () => {
  let em: Emulator;
  let token: string;
  before(async () => {
    em = await startEmulator({ pageSize: 3 });
    token = await armToken(em);
  });
  after(() => em.close());

  it("SPEC: nextLink when more records than pageSize; following it (api-version and skip token included) yields every record once", async () => {
    const prefix = uniqueName("page");
    for (let i = 0; i < 7; i++) em.jobs.seed({ jobName: `${prefix}-${i}`, status: "RUNNING" });
    const seen: string[] = [];
    let r = await listJobs(em, token);
    let pages = 0;
    for (;;) {
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.value.length <= 3);
      pages++;
      seen.push(...r.json.value.map((j: any) => j.properties.runId));
      if (!r.json.nextLink) break;
      const next = new URL(r.json.nextLink);
      assert.equal(next.searchParams.get("api-version"), V2024);
      assert.ok(next.searchParams.get("$skipToken"));
      r = await request(em, "GET", r.json.nextLink, { token });
    }
    assert.ok(pages >= 3);
    assert.equal(new Set(seen).size, seen.length, "no duplicates");
    assert.equal(seen.length, em.jobs.list().length);
  });

  it("a forged skip token → 400", async () => {
    const r = await request(em, "GET", `${clusterPath(em)}/jobs?api-version=${V2024}&$skipToken=garbage`, { token });
    assert.equal(r.status, 400);
  });

  it("SPEC: $filter jobName eq 'x' (≥2023-11) returns only that job; GUESS filterQuoting=both also accepts jobName eq x", async () => {
    const name = uniqueName("flt");
    em.jobs.seed({ jobName: name, status: "RUNNING", jarName: "flt.jar" });
    for (const v of [V2023_11, V2024]) {
      const q = await listJobs(em, token, v, `jobName eq '${name}'`);
      assert.equal(q.status, 200);
      assert.deepEqual(q.json.value.map((j: any) => j.properties.jobName), [name]);
      const u = await listJobs(em, token, v, `jobName eq ${name}`);
      assert.deepEqual(u.json.value.map((j: any) => j.properties.jobName), [name]);
    }
    const byJar = await listJobs(em, token, V2024, "jarName eq 'flt.jar'");
    assert.deepEqual(byJar.json.value.map((j: any) => j.properties.jobName), [name]);
    const bad = await listJobs(em, token, V2024, `jobName ne '${name}'`);
    assert.equal(bad.status, 400);
  });

  it("GUESS filterQuoting=quoted refuses unquoted values", async () => {
    const alt = await startEmulator({ guesses: { filterQuoting: "quoted" } });
    try {
      const t = await armToken(alt);
      assert.equal((await listJobs(alt, t, V2024, "jobName eq x")).status, 400);
      assert.equal((await listJobs(alt, t, V2024, "jobName eq 'x'")).status, 200);
    } finally {
      await alt.close();
    }
  });

  it("GUESS filterOn2023_06=reject: $filter on 2023-06-01-preview → 400; =ignore returns the whole list", async () => {
    const r = await listJobs(em, token, V2023_06, "jobName eq 'x'");
    assert.equal(r.status, 400);
    const alt = await startEmulator({ guesses: { filterOn2023_06: "ignore" } });
    try {
      const t = await armToken(alt);
      alt.jobs.seed({ jobName: "a" });
      alt.jobs.seed({ jobName: "b" });
      const all = await listJobs(alt, t, V2023_06, "jobName eq 'a'");
      assert.equal(all.status, 200);
      assert.equal(all.json.value.length, 2);
    } finally {
      await alt.close();
    }
  });

  it("SPEC: 2023-06-01-preview records have no runId and ids end with the jobName", async () => {
    const name = uniqueName("old");
    await runToEnd(em, token, newJobBody(em, name), V2023_06);
    const [rec] = await jobsNamed(em, token, name, V2023_06);
    assert.ok(rec);
    assert.equal(rec.properties.runId, undefined);
    assert.equal(rec.id, `${clusterPath(em)}/jobs/${name}`);
    assert.equal(rec.properties.status, "RUNNING");
    // The same record through 2024-05 shows its runId.
    const nw = (await listJobs(em, token, V2024, `jobName eq '${name}'`)).json.value[0];
    assert.match(nw.properties.runId, /^job-/);
    assert.equal(nw.id, `${clusterPath(em)}/jobs/${nw.properties.runId}`);
  });

  it("SPEC: 2023-06-01-preview actions act by jobName (STOP works)", async () => {
    const name = uniqueName("old");
    await runToEnd(em, token, newJobBody(em, name), V2023_06);
    const p = (await runToEnd(em, token, actionBody(name, "STOP"), V2023_06)).properties;
    assert.equal(p.status, "STOPPED");
  });

  it("classic-editor picklists: subscriptions, resource groups, cluster pools, clusters in ARM list shapes", async () => {
    const subs = await request(em, "GET", "/subscriptions?api-version=2022-12-01", { token });
    assert.equal(subs.status, 200);
    assert.equal(subs.json.value[0].subscriptionId, em.subscriptionId);
    const rgs = await request(em, "GET", `/subscriptions/${em.subscriptionId}/resourcegroups?api-version=2021-04-01`, { token });
    assert.equal(rgs.status, 200);
    assert.deepEqual(Object.keys(rgs.json.value[0]).sort(), ["id", "location", "name", "properties", "type"]);
    assert.equal(rgs.json.value[0].name, em.resourceGroup);
    const pools = await request(em, "GET", `/subscriptions/${em.subscriptionId}/resourceGroups/${em.resourceGroup}/providers/Microsoft.HDInsight/clusterpools?api-version=${V2024}`, { token });
    assert.equal(pools.status, 200);
    assert.equal(pools.json.value[0].name, em.clusterPool);
    assert.equal(pools.json.value[0].type, "Microsoft.HDInsight/clusterpools");
    const clusters = await request(em, "GET", `/subscriptions/${em.subscriptionId}/resourceGroups/${em.resourceGroup}/providers/Microsoft.HDInsight/clusterpools/${em.clusterPool}/clusters?api-version=${V2024}`, { token });
    assert.equal(clusters.status, 200);
    assert.equal(clusters.json.value[0].id, clusterPath(em));
    assert.equal(clusters.json.value[0].properties.clusterType, "Flink");
    assert.equal((await request(em, "GET", `/subscriptions/${em.subscriptionId}/resourcegroups?api-version=latest`, { token })).status, 400);
  });
});
