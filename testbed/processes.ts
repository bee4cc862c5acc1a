// The test beds' server processes (Flink's JVMs, ZooKeeper): spawned detached in their own process
// group, killed as a group, and never left behind when Node exits.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import * as net from "node:net";

/** Every live process group the test beds started, and their temp dirs, for cleanup on exit. */
const liveProcesses = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const child of liveProcesses) killGroup(child, "SIGKILL");
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // When someone else handles the signal (the CLI, a test runner), they stop the servers and
    // the exit hook catches the rest; otherwise the signal would end Node and orphan the JVMs.
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      killAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Tracks a spawned process group until it exits (killed on Node's exit). */
export function trackProcess(child: ChildProcess): ChildProcess {
  installExitHooks();
  liveProcesses.add(child);
  child.once("exit", () => liveProcesses.delete(child));
  return child;
}

/** Tracks a temp dir until untrackDir (removed on Node's exit). */
export function trackDir(dir: string): void {
  installExitHooks();
  liveDirs.add(dir);
}

export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}

export function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !isRunning(child)) return;
  try {
    process.kill(-child.pid, signal); // detached: the pid is the group id (the scripts exec java)
  } catch {
    // already gone
  }
}

export function exited(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** SIGTERM to the group, SIGKILL after graceMs; resolves when the process is gone. */
export async function stopProcess(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child) return;
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(timer);
  killGroup(child, "SIGKILL"); // helpers the script may have left in the group
  liveProcesses.delete(child);
}

/** SIGKILLs the group and resolves when the process is gone. */
export async function killProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child) return;
  killGroup(child, "SIGKILL");
  await exited(child);
  liveProcesses.delete(child);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
