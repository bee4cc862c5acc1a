/** Spawning a measured child: wall time from spawn to exit, and its peak RSS. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export interface ChildRun {
  /** Date.now() taken immediately before spawn() (comparable with the emulator's wallTime). */
  spawnedAt: number;
  /** Date.now() when the child exited. */
  exitedAt: number;
  /** hrtime from just before spawn() to exit, in ms. */
  wallMs: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** VmHWM of the child (peak RSS, bytes) as last read before it exited; undefined if never read. */
  peakRssBytes: number | undefined;
}

export interface ChildOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Read /proc/<pid>/status every this many ms for VmHWM (0: do not). */
  memoryPollMs?: number;
  timeoutMs?: number;
  /** Kills the child (SIGKILL) when aborted. */
  signal?: AbortSignal;
}

/** Peak resident set size (VmHWM) of a process, in bytes; undefined once it is gone. */
export function readPeakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function runChild(command: string, args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peak: number | undefined;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const sample = () => {
      if (child.pid === undefined) return;
      const v = readPeakRss(child.pid);
      if (v !== undefined) peak = Math.max(peak ?? 0, v);
    };
    const poll = options.memoryPollMs ? setInterval(sample, options.memoryPollMs) : undefined;
    const kill = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    options.signal?.addEventListener("abort", () => child.kill("SIGKILL"), { once: true });
    child.on("error", reject);
    child.on("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      const exitedAt = Date.now();
      if (poll) clearInterval(poll);
      clearTimeout(kill);
      // Wait for the pipes to drain before resolving.
      let pending = 2;
      const done = () => {
        if (--pending === 0) resolve({ spawnedAt, exitedAt, wallMs, exitCode: code, stdout, stderr, peakRssBytes: peak });
      };
      if (child.stdout.readableEnded) done();
      else child.stdout.once("end", done);
      if (child.stderr.readableEnded) done();
      else child.stderr.once("end", done);
    });
  });
}
