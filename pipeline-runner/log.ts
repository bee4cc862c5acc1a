/** What a person sees of a local run: task lines as the agent shows them, step headers, the final table. */
import { commandInLine } from "./agent-process";

/**
 * Makes a line inert for any agent that reads our output (the runner itself may run inside a
 * pipeline): the agent executes the first `##vso[` anywhere in a line, in any case.
 */
export function neutralise(text: string): string {
  return text.replace(/##vso\[/gi, (m) => `##_${m.slice(2)}`);
}

/** Replaces every secret with ***, longest first so a secret inside another is masked whole. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of [...secrets].filter((s) => s.trim().length > 0).sort((a, b) => b.length - a.length)) out = out.split(secret).join("***");
  return out;
}

/** A log sink that neither leaks secrets nor passes on commands, whatever it is given. */
export class RunLog {
  readonly secrets = new Set<string>();
  readonly lines: string[] = [];

  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  line(text = ""): void {
    for (const part of text.split(/\r?\n/)) {
      const safe = neutralise(maskSecrets(part, this.secrets));
      this.lines.push(safe);
      this.write(safe);
    }
  }
}

export type TaskLineEffect =
  | { kind: "show"; text: string }
  | { kind: "command"; command: string; properties: Record<string, string>; message: string; shownBefore: string };

/** How one line of a task's output is treated: shown as text, or a command the agent consumes. */
export function classifyTaskLine(line: string): TaskLineEffect {
  const found = commandInLine(line);
  if (found === undefined || found === "malformed") return { kind: "show", text: line };
  return { kind: "command", ...found.command, shownBefore: found.before };
}

/** The visible form of a command the agent shows (issues, debug); undefined when it is consumed. */
export function commandDisplay(command: string, properties: Record<string, string>, message: string, debug: boolean): string | undefined {
  switch (command) {
    case "task.issue":
    case "task.logissue": {
      const type = (properties["type"] ?? "").toLowerCase();
      return type === "error" ? `ERROR: ${message}` : type === "warning" ? `WARNING: ${message}` : message;
    }
    case "task.debug":
      return debug ? `DEBUG: ${message}` : undefined;
    default:
      return undefined;
  }
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")} s`;
}

/** Outputs worth a glance in the summary table, in this order. */
const KEY_OUTPUTS = ["jobStatus", "actionResult", "savepointPath", "savepointCount", "jobCount"];

export function keyOutputs(outputs: Record<string, string>): string {
  return KEY_OUTPUTS.filter((k) => outputs[k])
    .map((k) => {
      const value = outputs[k]!;
      // A savepoint's full abfs path is long; its name is what tells savepoints apart.
      return `${k}=${k === "savepointPath" ? `…/${value.slice(value.lastIndexOf("/") + 1)}` : value}`;
    })
    .join(" ");
}

export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(format)];
}
