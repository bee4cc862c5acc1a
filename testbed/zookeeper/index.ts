// A standalone Apache ZooKeeper on 127.0.0.1 for Flink's JobManager high availability, run from
// Debian's `zookeeper` package (its jars in /usr/share/java) with its own config and data dir:
// never the system service. The package's zkServer.sh reads /etc/zookeeper only, so the JVM is
// started directly, with the main class and class path zkServer.sh uses.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, promises as fs } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { delay, freePort, isRunning, killProcess, stopProcess, trackDir, trackProcess, untrackDir } from "../processes";

/** Debian's jars (env ZOOKEEPER_JAVA_DIR overrides the folder). */
const JAVA_DIR = process.env.ZOOKEEPER_JAVA_DIR ?? "/usr/share/java";
const MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
const DEFAULT_READY_TIMEOUT_MS = 60_000;

export interface ZooKeeperOptions {
  /** How long to wait for the server to serve requests (default 60 s). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ZooKeeperServer {
  /** host:port, for high-availability.zookeeper.quorum. */
  connectString: string;
  port: number;
  /** Its temp dir: zoo.cfg, data/, zookeeper.log (removed by stop()). */
  dir: string;
  pid(): number | undefined;
  logTail(lines?: number): Promise<string>;
  /** Stops the JVM (SIGTERM, SIGKILL after 10 s) and removes the dir. Idempotent. */
  stop(): Promise<void>;
}

/** Whether Debian's zookeeper package is installed (`apt-get install zookeeper`). */
export function isZooKeeperInstalled(): boolean {
  return existsSync(path.join(JAVA_DIR, "zookeeper.jar"));
}

/** Sends a four-letter command and returns the answer ("" when the connection fails). */
export function fourLetterWord(port: number, command: "ruok" | "srvr"): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(command));
    const chunks: Buffer[] = [];
    socket.setTimeout(3000, () => socket.destroy());
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", () => undefined);
  });
}

/** Starts a standalone ZooKeeper on a free 127.0.0.1 port; resolves when it serves requests. */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  if (!isZooKeeperInstalled()) {
    throw new Error(`ZooKeeper is not installed: ${path.join(JAVA_DIR, "zookeeper.jar")} is missing (apt-get install zookeeper)`);
  }
  const started = Date.now();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "zookeeper-testbed-"));
  trackDir(dir);
  await fs.mkdir(path.join(dir, "data"));
  const port = await freePort();
  await fs.writeFile(path.join(dir, "zoo.cfg"), [
    "tickTime=2000",
    `dataDir=${path.join(dir, "data")}`,
    `clientPort=${port}`,
    "clientPortAddress=127.0.0.1",
    "maxClientCnxns=0",
    // No Jetty admin server on 8080: only loopback ports of our own.
    "admin.enableServer=false",
    "4lw.commands.whitelist=ruok,srvr",
    "",
  ].join("\n"));
  const logFile = path.join(dir, "zookeeper.log");
  const out = openSync(logFile, "a");
  let child;
  try {
    // slf4j-simple (Debian's libslf4j-java, a dependency of the package) logs to stderr: the log file.
    const classPath = [dir, path.join(JAVA_DIR, "zookeeper.jar"), path.join(JAVA_DIR, "slf4j-simple.jar")].join(":");
    child = trackProcess(spawn("java", ["-Xmx128m", "-Dzookeeper.admin.enableServer=false", "-cp", classPath, MAIN_CLASS, path.join(dir, "zoo.cfg")],
      { cwd: dir, detached: true, stdio: ["ignore", out, out] }));
  } finally {
    closeSync(out);
  }
  const logTail = async (lines = 40) => {
    try {
      return (await fs.readFile(logFile, "utf8")).split("\n").slice(-lines - 1).join("\n");
    } catch {
      return "";
    }
  };
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await stopProcess(child, 10_000);
      await fs.rm(dir, { recursive: true, force: true });
      untrackDir(dir);
    })();
    return stopped;
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  for (;;) {
    if (!isRunning(child)) {
      const logs = await logTail();
      await stop();
      throw new Error(`ZooKeeper exited (code ${child.exitCode}, signal ${child.signalCode}) before answering on 127.0.0.1:${port}\n${logs}`);
    }
    // `ruok` answers imok before the server takes sessions; `srvr` names its mode once it does.
    if (/^Mode: /m.test(await fourLetterWord(port, "srvr"))) break;
    if (Date.now() > deadline) {
      const logs = await logTail();
      await killProcess(child);
      await stop();
      throw new Error(`ZooKeeper not ready on 127.0.0.1:${port} after ${(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) / 1000} s\n${logs}`);
    }
    await delay(200);
  }
  options.log?.(`ZooKeeper ready at 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s (dir ${dir})`);
  return { connectString: `127.0.0.1:${port}`, port, dir, pid: () => child.pid, logTail, stop };
}
