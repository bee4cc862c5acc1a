import https from "node:https";
import { type Emulator, type EmulatorConfig, startEmulator } from "../../emulator/index";

export const V2024 = "2024-05-01-preview";
export const V2023_11 = "2023-11-01-preview";
export const V2023_06 = "2023-06-01-preview";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;  
}

export interface RequestOptions {
  body?: unknown;
  /** Sent verbatim (no JSON encoding). */
  rawBody?: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  token?: string;
}

/** A real HTTPS request that trusts only the emulator's CA (no NODE_EXTRA_CA_CERTS needed). */
export function request(em: Emulator, method: string, pathOrUrl: string, o: RequestOptions = {}): Promise<HttpResult> {
  const url = new URL(pathOrUrl.startsWith("https://") ? pathOrUrl : em.url + pathOrUrl);
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  let payload: string | undefined;
  if (o.form) {
    payload = new URLSearchParams(o.form).toString();
    headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (o.rawBody !== undefined) {
    payload = o.rawBody;
  } else if (o.body !== undefined) {
    payload = JSON.stringify(o.body);
    headers["content-type"] ??= "application/json";
  }
  if (o.token) headers["authorization"] = `Bearer ${o.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: em.caCertPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** An ARM token through the token endpoint with the service principal's secret. */
export async function armToken(em: Emulator): Promise<string> {
  const r = await request(em, "POST", `/${em.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: "client_credentials",
      client_id: em.servicePrincipal.clientId,
      client_secret: em.servicePrincipal.clientSecret,
      scope: `${em.armUrl}/.default`,
    },
  });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

export function clusterPath(em: Emulator): string {
  return `/subscriptions/${em.subscriptionId}/resourceGroups/${em.resourceGroup}/providers/Microsoft.HDInsight/clusterpools/${em.clusterPool}/clusters/${em.cluster}`;
}

export function newJobBody(em: Emulator, jobName: string, extra: Record<string, unknown> = {}): { properties: Record<string, unknown> } {
  return {
    properties: {
      jobType: "FlinkJob",
      jobName,
      jobJarDirectory: em.knownJar.jobJarDirectory,
      jarName: em.knownJar.jarName,
      entryClass: em.knownJar.entryClass,
      args: "",
      action: "NEW",
      flinkConfiguration: { parallelism: "1" },
      ...extra,
    },
  };
}

export function actionBody(jobName: string, action: string, extra: Record<string, unknown> = {}): { properties: Record<string, unknown> } {
  return { properties: { jobType: "FlinkJob", jobName, action, ...extra } };
}

export function runJob(em: Emulator, token: string, body: unknown, v = V2024): Promise<HttpResult> {
  return request(em, "POST", `${clusterPath(em)}/runJob?api-version=${v}`, { body, token });
}

export async function listJobs(em: Emulator, token: string, v = V2024, filter?: string): Promise<HttpResult> {
  const q = new URLSearchParams({ "api-version": v });
  if (filter !== undefined) q.set("$filter", filter);
  return request(em, "GET", `${clusterPath(em)}/jobs?${q.toString()}`, { token });
}

/** Job records named jobName, in list order, following nextLink. */
export async function jobsNamed(em: Emulator, token: string, jobName: string, v = V2024): Promise<any[]> {
  const all: any[] = [];
  let r = await listJobs(em, token, v);
  for (;;) {
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text}`);
    all.push(...(r.json.value as any[]));
    if (!r.json.nextLink) break;
    r = await request(em, "GET", r.json.nextLink as string, { token });
  }
  return all.filter((j) => j.properties.jobName === jobName);
}

export async function latest(em: Emulator, token: string, jobName: string, v = V2024): Promise<any> {
  const all = await jobsNamed(em, token, jobName, v);
  return all[all.length - 1];
}

/** Posts an action and pushes the virtual clock past its whole life (stale window + duration). */
export async function runToEnd(em: Emulator, token: string, body: { properties: Record<string, unknown> }, v = V2024): Promise<any> {
  const r = await runJob(em, token, body, v);
  if (r.status !== 202) throw new Error(`runJob ${String(body.properties["action"])}: ${r.status} ${r.text}`);
  em.clock.advance(60_000);
  return latest(em, token, body.properties["jobName"] as string, v);
}

let counter = 0;
export function uniqueName(prefix = "job"): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** An emulator and an ARM token for one mocha suite; faults cleared after each test. */
export function emulatorSuite(config?: EmulatorConfig): { em: Emulator; token: string } {
  const suite = {} as { em: Emulator; token: string };
  before(async () => {
    suite.em = await startEmulator(config);
    suite.token = await armToken(suite.em);
  });
  after(() => suite.em.close());
  afterEach(() => suite.em.faults.clear());
  return suite;
}
