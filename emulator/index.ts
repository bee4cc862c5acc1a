import fs from "node:fs";
import { ArmApi } from "./arm/api";
import { OperationStore } from "./arm/operations";
import { clusterId, type Topology } from "./arm/topology";
import { VirtualClock } from "./clock";
import { resolveConfig, type EmulatorConfig, type Guesses } from "./config";
import { handleControl } from "./control";
import { DevOpsOidc } from "./devops-oidc";
import { EntraId } from "./entra";
import { FaultInjector, type FaultRule } from "./faults";
import { JobStore, type JobProperties } from "./flink/state-machine";
import { JarStorage } from "./flink/storage";
import { ManagedIdentityEndpoint } from "./managed-identity";
import { RequestLog, type RequestLogEntry, type RequestLogFilter } from "./request-log";
import { EmulatorServer } from "./server";
import { loadOrCreateState } from "./state-dir";

export type { EmulatorConfig, Guesses } from "./config";
export type { FaultRule, FaultKind, FaultRoute } from "./faults";
export { parseFaultSpec } from "./faults";
export type { RequestLogEntry, RequestLogFilter } from "./request-log";
export type { JobProperties } from "./flink/state-machine";
export { DEFAULT_GUESSES, DEFAULT_ACTION_DURATION_MS } from "./config";

/** A job record exactly as GET …/jobs (2024-05-01-preview) shows it now. */
export interface JobRecordView {
  id: string;
  properties: JobProperties;
}

export interface SeedJobInput extends Partial<JobProperties> {
  jobName: string;
  /** Savepoint paths the job already has (lastSavePoint is added when missing). */
  savepoints?: string[];
}

export interface Emulator {
  url: string;
  armUrl: string;
  authorityHost: string;
  caCertPath: string;
  caCertPem: string;
  /** The HTTPS leaf the emulator's CA signed (localhost, 127.0.0.1, ::1): another local test
   * server (Azurite) can serve it, and the same NODE_EXTRA_CA_CERTS trusts both. */
  serverTls: { certPem: string; keyPem: string };
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  clusterPool: string;
  cluster: string;
  location: string;
  servicePrincipal: { clientId: string; clientSecret: string; certificatePem: string; certificatePath: string; objectId: string };
  workloadIdentity: { clientId: string; serviceConnectionId: string; oidcRequestUri: string; systemAccessToken: string; objectId: string; issuer: string; subject: string };
  managedIdentity: { clientId: string; objectId: string; env: Record<string, string> };
  knownJar: { jobJarDirectory: string; jarName: string; entryClass: string };
  storage: { addJar(jobJarDirectory: string, jarName: string): void; list(): string[] };
  jobs: {
    list(): JobRecordView[];
    seed(input: SeedJobInput): JobRecordView;
    /** A job a NEW of the known jar left RUNNING (jobId 25e318…, parallelism 2), with overrides. */
    seedRunning(jobName: string, overrides?: Partial<SeedJobInput>): JobRecordView;
    /** Savepoint paths a record holds (by runId, or the latest record of a jobName). */
    savepoints(runIdOrJobName: string): string[];
  };
  faults: { add(rule: FaultRule): { remaining(): number; remove(): void }; clear(): void; list(): FaultRule[] };
  log: { entries(filter?: RequestLogFilter): RequestLogEntry[]; clear(): void };
  /** now(): virtual ms (job and operation time). advance(ms) skips job/operation time; with
   * { tokens: true } it also ages the tokens the emulator issued (access and OIDC tokens). */
  clock: { now(): number; advance(ms: number, opts?: { tokens?: boolean }): void };
  /** The resolved GUESS switches in force. */
  guesses: Guesses;
  close(): Promise<void>;
}

export const KNOWN_JAR = {
  jobJarDirectory: "abfs://jars@flinkemulatorstore.dfs.core.windows.net/jars",
  jarName: "FlinkJobDemo-1.0-SNAPSHOT.jar",
  entryClass: "org.example.SleepJob",
} as const;

export async function startEmulator(config: EmulatorConfig = {}): Promise<Emulator> {
  const cfg = resolveConfig(config);
  const { state, caCertPath, servicePrincipalCertPath } = await loadOrCreateState(cfg.stateDir);
  const clock = new VirtualClock(cfg.timeScale);
  const faults = new FaultInjector();
  for (const r of config.faults ?? []) faults.add(r);
  const log = new RequestLog();
  const storage = new JarStorage();
  storage.add(KNOWN_JAR.jobJarDirectory, KNOWN_JAR.jarName);
  for (const j of config.jars ?? []) storage.add(j.jobJarDirectory, j.jarName);

  // The URL depends on the port, known only after listen(): handlers are wired lazily.
  // eslint-disable-next-line prefer-const -- assigned once the port is known, read by need() before
  let api: { arm: ArmApi; entra: EntraId; oidc: DevOpsOidc; msi: ManagedIdentityEndpoint } | undefined;
  const need = () => {
    if (!api) throw new Error("emulator not started");
    return api;
  };
  const topo: Topology = {
    subscriptionId: state.subscriptionId,
    tenantId: state.tenantId,
    resourceGroup: "flink-emulator-rg",
    clusterPool: "flinkpool",
    cluster: "flinkcluster",
    location: "westus2",
  };
  const store = new JobStore(storage, cfg.guesses, topo.cluster);

  const server = new EmulatorServer(
    { key: state.tls.serverKeyPem, cert: state.tls.serverCertPem, ca: state.tls.caCertPem },
    {
      arm: (ctx) => need().arm.handle(ctx),
      openid: (ctx) => need().entra.openIdConfiguration(ctx),
      keys: (ctx) => need().entra.keys(ctx),
      token: (ctx) => need().entra.token(ctx),
      oidc: (ctx) => need().oidc.handle(ctx),
      msi: (ctx) => need().msi.handle(ctx),
      control: (ctx) => handleControl(ctx, control),
    },
    faults,
    log,
    clock,
  );
  const port = await server.listen(cfg.port, cfg.host);
  const hostForUrl = cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host;
  const url = `https://${hostForUrl}:${port}`;

  const entra = new EntraId(url, state.tenantId, state, clock, cfg.accessTokenLifetimeSec);
  const oidc = new DevOpsOidc(url, state.workloadIdentity, state.devopsSigningKeyPem, clock, cfg.oidcTokenLifetimeSec);
  const msi = new ManagedIdentityEndpoint(url, state.managedIdentity, entra);
  const sp = state.servicePrincipal;
  const wi = state.workloadIdentity;
  entra.registerApp({ clientId: sp.clientId, objectId: sp.objectId, displayName: "flink-emulator-sp", secret: sp.clientSecret, certPem: sp.certPem });
  entra.registerApp({
    clientId: wi.clientId,
    objectId: wi.objectId,
    displayName: "flink-emulator-wif",
    federated: { issuer: oidc.issuer, subject: oidc.subject, audience: "api://AzureADTokenExchange" },
  });
  entra.trustIssuer(oidc.issuer, oidc.publicKey);
  const operations = new OperationStore(url, topo.location, state.operationHmacKey);
  api = { arm: new ArmApi(url, topo, entra, store, operations, faults, clock, cfg), entra, oidc, msi };

  const cid = clusterId(topo);
  const viewOf = (r: ReturnType<JobStore["all"]>[number]): JobRecordView | undefined => {
    const props = store.view(r, clock.now());
    return props ? { id: `${cid}/jobs/${r.runId}`, properties: props } : undefined;
  };
  const listJobs = (): JobRecordView[] => store.visible(clock.now()).flatMap((r) => viewOf(r) ?? []);
  const seedJob = (input: SeedJobInput): JobRecordView => {
    if (!input || typeof input.jobName !== "string") throw new Error("seed needs at least a jobName");
    const { savepoints, ...props } = input;
    const r = store.seed(props, savepoints ?? []);
    return viewOf(r)!;
  };
  const certificatePem = fs.readFileSync(servicePrincipalCertPath, "utf8");

  const emulator: Emulator = {
    url,
    armUrl: url,
    authorityHost: entra.authorityHost,
    caCertPath,
    caCertPem: state.tls.caCertPem,
    serverTls: { certPem: state.tls.serverCertPem, keyPem: state.tls.serverKeyPem },
    tenantId: state.tenantId,
    subscriptionId: state.subscriptionId,
    resourceGroup: topo.resourceGroup,
    clusterPool: topo.clusterPool,
    cluster: topo.cluster,
    location: topo.location,
    servicePrincipal: { clientId: sp.clientId, clientSecret: sp.clientSecret, certificatePem, certificatePath: servicePrincipalCertPath, objectId: sp.objectId },
    workloadIdentity: {
      clientId: wi.clientId,
      serviceConnectionId: wi.serviceConnectionId,
      oidcRequestUri: oidc.requestUri,
      systemAccessToken: wi.systemAccessToken,
      objectId: wi.objectId,
      issuer: oidc.issuer,
      subject: oidc.subject,
    },
    managedIdentity: { clientId: state.managedIdentity.clientId, objectId: state.managedIdentity.objectId, env: msi.env },
    knownJar: { ...KNOWN_JAR },
    storage: { addJar: (d, n) => storage.add(d, n), list: () => storage.list() },
    jobs: {
      list: listJobs,
      seed: seedJob,
      seedRunning: (jobName, overrides = {}) =>
        seedJob({
          jobName,
          ...KNOWN_JAR,
          action: "NEW",
          actionResult: "SUCCESS",
          status: "RUNNING",
          jobId: "25e318907f786a2c6aee392df6580035",
          jobOutput: "Flink internal job status : RUNNING",
          flinkConfiguration: { parallelism: "2" },
          ...overrides,
        }),
      savepoints: (key) => {
        const all = store.all().filter((r) => !r.deleted);
        const byRun = all.find((r) => r.runId === key);
        const rec = byRun ?? [...all].reverse().find((r) => r.props.jobName === key);
        return rec ? [...rec.savepoints] : [];
      },
    },
    faults: { add: (r) => faults.add(r), clear: () => faults.clear(), list: () => faults.list() },
    log: { entries: (f) => log.entries(f), clear: () => log.clear() },
    clock: { now: () => clock.now(), advance: (ms, opts) => clock.advance(ms, opts) },
    guesses: cfg.guesses,
    close: () => server.close(),
  };

  const control = {
    info: () => connectionInfo(emulator),
    faults,
    log,
    addJar: (d: string, n: string) => storage.add(d, n),
    listJars: () => storage.list(),
    listJobs,
    seedJob: (input: unknown) => seedJob(input as SeedJobInput),
    advance: (ms: number, tokens: boolean) => {
      clock.advance(ms, { tokens });
      return clock.now();
    },
    now: () => clock.now(),
  };
  return emulator;
}

/** Everything a person (or the demo) needs to point a service connection at the emulator. */
export function connectionInfo(e: Emulator): Record<string, unknown> {
  return {
    url: e.url,
    armUrl: e.armUrl,
    authorityHost: e.authorityHost,
    caCertPath: e.caCertPath,
    tenantId: e.tenantId,
    subscriptionId: e.subscriptionId,
    resourceGroup: e.resourceGroup,
    clusterPool: e.clusterPool,
    cluster: e.cluster,
    location: e.location,
    servicePrincipal: { clientId: e.servicePrincipal.clientId, clientSecret: e.servicePrincipal.clientSecret, certificatePath: e.servicePrincipal.certificatePath },
    workloadIdentity: {
      clientId: e.workloadIdentity.clientId,
      serviceConnectionId: e.workloadIdentity.serviceConnectionId,
      oidcRequestUri: e.workloadIdentity.oidcRequestUri,
      systemAccessToken: e.workloadIdentity.systemAccessToken,
    },
    managedIdentity: { clientId: e.managedIdentity.clientId, env: e.managedIdentity.env },
    knownJar: e.knownJar,
  };
}
