// A real Apache Flink session cluster on 127.0.0.1: one JobManager and one TaskManager started
// with Flink's own bin/jobmanager.sh and bin/taskmanager.sh (start-foreground), as users run
// Flink, from a FLINK_HOME made by install.ts. Each cluster has its own temp dir (conf, logs,
// savepoints, checkpoints, uploads) and its own free ports; stop() leaves nothing behind.
import { ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, promises as fs } from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import YAML from "yaml";
import { delay, freePort, isRunning, killProcess, stopProcess, trackDir, trackProcess, untrackDir } from "../processes";
import { startZooKeeper, type ZooKeeperServer } from "../zookeeper";
import { installFlink } from "./install";

export { freePort } from "../processes";

export type FlinkConfigValue = string | number | boolean;

export interface FlinkClusterOptions {
  /** Flink version, e.g. "1.20.5" (installed on first use). */
  version: string;
  /** Task slots of the one TaskManager (default 4). */
  slots?: number;
  /** Periodic checkpoint interval in ms (execution.checkpointing.interval); default none. */
  checkpointIntervalMs?: number;
  /** More config.yaml entries (flat keys); they win over the test bed's, e.g. { "web.submit.enable": false }. */
  extraConfig?: Record<string, FlinkConfigValue>;
  /** How long to wait for the REST API, a registered TaskManager and /jars (default 90 s). */
  readyTimeoutMs?: number;
  /** Keep the cluster's temp dir after stop() (default: env FLINK_TESTBED_KEEP=1). */
  keepDir?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * How the test bed itself reaches a REST API that extraConfig puts behind SSL
   * (security.ssl.rest.enabled: true): the CA that signed the REST certificate and, when
   * security.ssl.rest.authentication-enabled is true, a client certificate and key it trusts.
   */
  restClientTls?: RestClientTls;
  /**
   * JobManager high availability through ZooKeeper (high-availability.type: zookeeper, storage
   * dir on local disk, a cluster-id of its own): `true` starts a ZooKeeper for this cluster,
   * stopped with it. Jobs then survive killJobManager() + restartJobManager() with their JobIDs.
   */
  ha?: boolean;
}

export interface RestClientTls {
  caCertPem: string;
  clientCertPem?: string;
  clientKeyPem?: string;
}

export interface FlinkCluster {
  version: string;
  /** http://127.0.0.1:<port> (https:// with security.ssl.rest.enabled), no trailing slash. */
  restUrl: string;
  restPort: number;
  /** FLINK_HOME the cluster runs from. */
  home: string;
  /** The cluster's temp dir (removed by stop()). */
  dir: string;
  confDir: string;
  logDir: string;
  /** Local path of the default savepoint dir (execution.checkpointing.savepoint-dir). */
  savepointDir: string;
  /** Same as a URI, as configured: file:///… */
  savepointDirUri: string;
  /** Local path of the checkpoint dir (execution.checkpointing.dir); checkpoints are retained on cancel. */
  checkpointDir: string;
  checkpointDirUri: string;
  /** The config.yaml entries the cluster was started with. */
  config: Record<string, FlinkConfigValue>;
  /** With `ha`: the ZooKeeper, the HA storage dir (local path) and the cluster-id. */
  highAvailability?: { zooKeeper: ZooKeeperServer; storageDir: string; clusterId: string };
  jobManagerPid(): number | undefined;
  taskManagerPid(): number | undefined;
  /** SIGKILLs the TaskManager (its whole process group) and resolves when it is gone. */
  killTaskManager(): Promise<void>;
  /** Starts a new TaskManager (e.g. after killTaskManager) and resolves when the JobManager lists it. */
  startTaskManager(): Promise<void>;
  /** SIGKILLs the JobManager (its whole process group) and resolves when it is gone. */
  killJobManager(): Promise<void>;
  /**
   * Starts the JobManager again (after killJobManager) with the same config and REST port, and
   * resolves when the REST API lists a TaskManager with all its slots and GET /jars answers.
   * With `ha` the jobs it ran are recovered with their JobIDs from their latest checkpoints.
   */
  restartJobManager(): Promise<void>;
  /** Resident memory of each JVM in MiB (from /proc), undefined for one not running. */
  residentMemoryMiB(): Promise<{ jobManager?: number; taskManager?: number }>;
  /** Last lines of the JobManager's and TaskManager's logs, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** Stops both JVMs (SIGTERM, then SIGKILL after 15 s) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_SLOTS = 4;
const DEFAULT_READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

function flatten(value: unknown, prefix: string, into: Record<string, FlinkConfigValue>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    into[prefix] = value;
  }
}

/** The distribution's own env.java.* entries (its Java 17 --add-opens/--add-exports list). */
async function distributionJavaOptions(home: string): Promise<Record<string, FlinkConfigValue>> {
  const flat: Record<string, FlinkConfigValue> = {};
  flatten(YAML.parse(await fs.readFile(path.join(home, "conf", "config.yaml"), "utf8")), "", flat);
  return Object.fromEntries(Object.entries(flat).filter(([key]) => key.startsWith("env.java.")));
}

/** Flink's ZooKeeper HA keys (the same on 1.20 and 2.x; 1.20 also reads the older `high-availability`). */
function highAvailabilityConfig(zooKeeper: ZooKeeperServer, storageDirUri: string, clusterId: string): Record<string, FlinkConfigValue> {
  return {
    "high-availability.type": "zookeeper",
    "high-availability.zookeeper.quorum": zooKeeper.connectString,
    "high-availability.storageDir": storageDirUri,
    "high-availability.cluster-id": clusterId,
  };
}

function clusterConfig(
  dir: string,
  ports: { rest: number; rpc: number },
  options: FlinkClusterOptions,
  javaOptions: Record<string, FlinkConfigValue>,
  highAvailability: Record<string, FlinkConfigValue>,
): Record<string, FlinkConfigValue> {
  const uri = (sub: string) => pathToFileURL(path.join(dir, sub)).href;
  return {
    ...javaOptions,
    "jobmanager.rpc.address": "127.0.0.1",
    "jobmanager.rpc.port": ports.rpc, // fixed: the TaskManager finds the ResourceManager through it
    "jobmanager.bind-host": "127.0.0.1",
    // Sized to sit beside the tests on 2 cores: ~192m JM heap, ~192m task heap (see README).
    "jobmanager.memory.process.size": "768m",
    "taskmanager.bind-host": "127.0.0.1",
    "taskmanager.host": "127.0.0.1",
    "taskmanager.numberOfTaskSlots": options.slots ?? DEFAULT_SLOTS,
    "taskmanager.memory.process.size": "1024m",
    "taskmanager.memory.managed.size": "64m",
    "rest.address": "127.0.0.1",
    "rest.bind-address": "127.0.0.1",
    "rest.port": ports.rest,
    "parallelism.default": 1,
    "web.upload.dir": path.join(dir, "jars"),
    "web.tmpdir": path.join(dir, "web"),
    "io.tmp.dirs": path.join(dir, "tmp"),
    "execution.checkpointing.savepoint-dir": uri("savepoints"),
    "execution.checkpointing.dir": uri("checkpoints"),
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    ...(options.checkpointIntervalMs !== undefined ? { "execution.checkpointing.interval": `${options.checkpointIntervalMs}ms` } : {}),
    // A failing job goes FAILED at once instead of restarting forever.
    "restart-strategy.type": "none",
    // Finished jobs stay in /jobs/overview for an hour.
    "jobstore.expiration-time": 3600,
    // A killed TaskManager is noticed in seconds, not the default 50 s.
    "heartbeat.interval": 2000,
    "heartbeat.timeout": 15000,
    // Job stdout (print()) and JVM stderr go to log/*.out and *.err, as with the daemon scripts.
    "env.stdout-err.redirect-to-file": true,
    ...highAvailability,
    ...options.extraConfig,
  };
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const text = await fs.readFile(file, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  } catch {
    return "";
  }
}

async function getJson(url: string, tls?: RestClientTls): Promise<{ status: number; body: unknown }> {
  const { status, text } = url.startsWith("https:") ? await getOverTls(url, tls) : await getPlain(url);
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status, body };
}

async function getPlain(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, text: await response.text() };
}

// fetch() takes no CA or client certificate: REST SSL goes through node:https.
function getOverTls(url: string, tls: RestClientTls | undefined): Promise<{ status: number; text: string }> {
  if (!tls) throw new Error(`${url}: the REST API is behind SSL; pass restClientTls`);
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca: tls.caCertPem, cert: tls.clientCertPem, key: tls.clientKeyPem, timeout: 5000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on("error", reject);
  });
}

/**
 * Starts one JobManager and one TaskManager of Flink `version` (installing it if needed) and
 * resolves once the REST API lists a TaskManager with all its slots and GET /jars answers 200
 * (404 when extraConfig sets web.submit.enable: false). Rejects after readyTimeoutMs with the
 * logs' tails; a port taken between choosing and binding is retried once with new ports.
 */
export async function startFlinkCluster(options: FlinkClusterOptions): Promise<FlinkCluster> {
  try {
    return await startOnce(options);
  } catch (err) {
    if (err instanceof PortClashError) {
      options.log?.(`Flink ${options.version}: port taken while starting, retrying with new ports`);
      return startOnce(options);
    }
    throw err;
  }
}

class PortClashError extends Error {}

async function startOnce(options: FlinkClusterOptions): Promise<FlinkCluster> {
  const { version } = options;
  const log = options.log ?? (() => undefined);
  const home = await installFlink(version, { log });
  const started = Date.now();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `flink-testbed-${version}-`));
  trackDir(dir);
  const confDir = path.join(dir, "conf");
  const logDir = path.join(dir, "log");
  for (const sub of ["conf", "log", "pid", "jars", "web", "tmp", "savepoints", "checkpoints", "ha"]) {
    await fs.mkdir(path.join(dir, sub));
  }
  for (const file of await fs.readdir(path.join(home, "conf"))) {
    if (file !== "config.yaml") await fs.copyFile(path.join(home, "conf", file), path.join(confDir, file));
  }
  const ports = { rest: await freePort(), rpc: await freePort() };
  let zooKeeper: ZooKeeperServer | undefined;
  try {
    if (options.ha) zooKeeper = await startZooKeeper({ log });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw err;
  }
  const clusterId = path.basename(dir);
  const haConfig = zooKeeper ? highAvailabilityConfig(zooKeeper, pathToFileURL(path.join(dir, "ha")).href, clusterId) : {};
  const config = clusterConfig(dir, ports, options, await distributionJavaOptions(home), haConfig);
  await fs.writeFile(path.join(confDir, "config.yaml"), YAML.stringify(config, { lineWidth: 0 }));
  const restSsl = String(config["security.ssl.rest.enabled"] ?? "false") === "true";
  const restUrl = `${restSsl ? "https" : "http"}://127.0.0.1:${ports.rest}`;
  const getRest = (route: string) => getJson(`${restUrl}${route}`, options.restClientTls);
  const env: NodeJS.ProcessEnv = { ...process.env, FLINK_CONF_DIR: confDir, FLINK_LOG_DIR: logDir, FLINK_PID_DIR: path.join(dir, "pid") };
  delete env.FLINK_HOME;

  const launch = (script: string, name: string): ChildProcess => {
    const out = openSync(path.join(logDir, `${name}.launcher.out`), "a");
    try {
      return trackProcess(spawn(path.join(home, "bin", script), ["start-foreground"], { env, detached: true, stdio: ["ignore", out, out] }));
    } finally {
      closeSync(out);
    }
  };

  let jobManager: ChildProcess | undefined = launch("jobmanager.sh", "jobmanager");
  let taskManager: ChildProcess | undefined = launch("taskmanager.sh", "taskmanager");
  let stopped: Promise<void> | undefined;

  const logTail = async (lines = 40): Promise<string> => {
    const files = existsSync(logDir) ? (await fs.readdir(logDir)).sort() : [];
    const parts: string[] = [];
    for (const file of files) {
      const text = await tail(path.join(logDir, file), file.endsWith(".log") ? lines : 10);
      if (text.trim()) parts.push(`--- ${file} ---\n${text.trimEnd()}`);
    }
    const zooKeeperLog = (await zooKeeper?.logTail(10))?.trim();
    if (zooKeeperLog) parts.push(`--- zookeeper.log ---\n${zooKeeperLog}`);
    return parts.join("\n");
  };

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all([stopProcess(taskManager, STOP_GRACE_MS), stopProcess(jobManager, STOP_GRACE_MS)]);
      await zooKeeper?.stop();
      const keep = options.keepDir ?? process.env.FLINK_TESTBED_KEEP === "1";
      if (keep) log(`Flink ${version}: kept ${dir}`);
      else await fs.rm(dir, { recursive: true, force: true });
      untrackDir(dir);
    })();
    return stopped;
  };

  const taskManagerIds = async (): Promise<string[]> => {
    const { status, body } = await getRest("/taskmanagers");
    if (status !== 200) throw new Error(`GET /taskmanagers answered ${status}`);
    return ((body as { taskmanagers?: { id: string }[] }).taskmanagers ?? []).map((tm) => tm.id);
  };

  const waitFor = async (what: string, check: () => Promise<boolean>, processes: () => ChildProcess[]): Promise<void> => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    let lastError = "";
    for (;;) {
      const dead = processes().find((child) => !isRunning(child));
      if (dead) {
        const logs = await logTail();
        if (/BindException|Address already in use/.test(logs)) {
          await stop();
          throw new PortClashError(logs);
        }
        throw new Error(`Flink ${version}: a process exited (code ${dead.exitCode}, signal ${dead.signalCode}) before ${what}\n${logs}`);
      }
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new Error(`Flink ${version}: not ready after ${(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) / 1000} s: ${what}` +
          `${lastError ? ` (last error: ${lastError})` : ""}\n${await logTail()}`);
      }
      await delay(300);
    }
  };

  const slots = Number(config["taskmanager.numberOfTaskSlots"]);
  const submitEnabled = String(config["web.submit.enable"] ?? "true") !== "false";
  const untilReady = async (): Promise<void> => {
    await waitFor(`a TaskManager with ${slots} slots in GET ${restUrl}/overview`, async () => {
      const { status, body } = await getRest("/overview");
      const overview = body as { taskmanagers?: number; "slots-total"?: number };
      return status === 200 && (overview.taskmanagers ?? 0) >= 1 && (overview["slots-total"] ?? 0) >= slots;
    }, () => [jobManager!, taskManager!]);
    await waitFor(`GET ${restUrl}/jars answering ${submitEnabled ? 200 : 404}`, async () => {
      const { status } = await getRest("/jars");
      return status === (submitEnabled ? 200 : 404);
    }, () => [jobManager!, taskManager!]);
  };
  try {
    await untilReady();
  } catch (err) {
    await stop();
    throw err;
  }
  log(`Flink ${version}: ready at ${restUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s (dir ${dir})`);

  const rssMiB = async (child: ChildProcess | undefined): Promise<number | undefined> => {
    if (!child?.pid || !isRunning(child)) return undefined;
    try {
      const status = await fs.readFile(`/proc/${child.pid}/status`, "utf8");
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return kb ? Math.round(Number(kb) / 1024) : undefined;
    } catch {
      return undefined;
    }
  };

  return {
    version,
    restUrl,
    restPort: ports.rest,
    home,
    dir,
    confDir,
    logDir,
    savepointDir: path.join(dir, "savepoints"),
    savepointDirUri: String(config["execution.checkpointing.savepoint-dir"]),
    checkpointDir: path.join(dir, "checkpoints"),
    checkpointDirUri: String(config["execution.checkpointing.dir"]),
    config,
    ...(zooKeeper ? { highAvailability: { zooKeeper, storageDir: path.join(dir, "ha"), clusterId } } : {}),
    jobManagerPid: () => jobManager?.pid,
    taskManagerPid: () => taskManager?.pid,
    killTaskManager: async () => {
      await killProcess(taskManager);
      taskManager = undefined;
    },
    startTaskManager: async () => {
      if (stopped) throw new Error("startTaskManager: the cluster was stopped");
      if (taskManager) throw new Error("startTaskManager: a TaskManager is running; killTaskManager() first");
      const before = new Set(await taskManagerIds());
      const child = launch("taskmanager.sh", "taskmanager");
      taskManager = child;
      await waitFor("a new TaskManager in GET /taskmanagers", async () => (await taskManagerIds()).some((id) => !before.has(id)),
        () => [jobManager!, child]);
    },
    killJobManager: async () => {
      await killProcess(jobManager);
      jobManager = undefined;
    },
    restartJobManager: async () => {
      if (stopped) throw new Error("restartJobManager: the cluster was stopped");
      if (jobManager) throw new Error("restartJobManager: the JobManager is running; killJobManager() first");
      const started = Date.now();
      jobManager = launch("jobmanager.sh", "jobmanager");
      await untilReady();
      log(`Flink ${version}: JobManager restarted at ${restUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    residentMemoryMiB: async () => ({ jobManager: await rssMiB(jobManager), taskManager: await rssMiB(taskManager) }),
    logTail,
    stop: async () => {
      await stop();
      jobManager = undefined;
      taskManager = undefined;
    },
  };
}
