import assert from "node:assert/strict";
import type { Emulator } from "../../emulator/index";
import type { TaskRun } from "./agent";
import { secretsOf } from "./emulator-connections";

/** Every credential the emulator saw: bearer tokens, client assertions (OIDC tokens), secrets. */
export function credentialsSeen(emulator: Emulator): string[] {
  const values = new Set<string>(secretsOf(emulator));
  for (const entry of emulator.log.entries()) {
    const auth = entry.headers["authorization"];
    if (auth?.startsWith("Bearer ")) values.add(auth.slice(7));
    const body = entry.body as Record<string, unknown> | undefined;
    for (const key of ["client_assertion", "client_secret"]) {
      if (body && typeof body[key] === "string") values.add(body[key] as string);
    }
  }
  return [...values].filter((v) => v.length >= 16);
}

/** No credential in what the agent would show, debug lines included (setsecret lines are consumed, not shown). */
export function assertNoCredentialsInLog(run: TaskRun, emulator: Emulator): void {
  const shown = [run.visibleLog, ...run.commands.filter((c) => c.command !== "task.setsecret").map((c) => `${JSON.stringify(c.properties)} ${c.message}`)].join("\n");
  for (const value of credentialsSeen(emulator)) {
    assert.ok(!shown.includes(value), `a credential (${value.slice(0, 6)}…) appears in the task's log`);
    // Parts of a token are a leak too (a JWT's signature alone is enough to recognise it).
    const tail = value.slice(-24);
    assert.ok(!shown.includes(tail), `the end of a credential (…${tail.slice(-6)}) appears in the task's log`);
  }
}

/** None of these values, nor the end of one, in what the agent would show (debug lines included). */
export function assertValuesNotInLog(run: TaskRun, values: string[], what = "a credential"): void {
  const shown = [run.visibleLog, ...run.commands.filter((c) => c.command !== "task.setsecret").map((c) => `${JSON.stringify(c.properties)} ${c.message}`)].join("\n");
  for (const value of values.filter((v) => v.length >= 16)) {
    assert.ok(!shown.includes(value), `${what} (${value.slice(0, 6)}…) appears in the task's log`);
    const tail = value.slice(-24);
    assert.ok(!shown.includes(tail), `the end of ${what} (…${tail.slice(-6)}) appears in the task's log`);
  }
}

/**
 * Every logging command in a run must be one the task itself may issue: debug, issues, exactly
 * one result, one summary, secrets, and only its own output variables (task.json restrictions).
 * Returns the commands that are not, each a sign that outside text was executed.
 */
export function injectedCommands(run: Pick<TaskRun, "commands">, allowedVariables: string[]): string[] {
  const problems: string[] = [];
  const allowed = new Set(allowedVariables.map((v) => v.toLowerCase()));
  let completes = 0;
  let summaries = 0;
  for (const c of run.commands) {
    switch (c.command) {
      case "task.debug":
      case "task.issue":
      case "task.setsecret":
        break;
      case "task.complete":
        completes++;
        break;
      case "task.uploadsummary":
      case "task.addattachment":
        summaries++;
        break;
      case "task.setvariable":
        if (!allowed.has((c.properties["variable"] ?? "").toLowerCase()) || c.properties["isOutput"] !== "true") {
          problems.push(`task.setvariable ${c.properties["variable"]}`);
        }
        break;
      default:
        problems.push(c.command);
    }
  }
  if (completes !== 1) problems.push(`${completes} task.complete commands`);
  if (summaries > 1) problems.push(`${summaries} summaries`);
  return problems;
}
