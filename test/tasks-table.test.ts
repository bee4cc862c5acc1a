/** The one table of task specs (src/tasks.ts) is what the entry points run and the manifests offer. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { TASKS as MANIFESTS } from "../scripts/task-manifests";
import { TASKS } from "../src/tasks";
import { repoRoot } from "./harness/agent";

describe("the task spec table", () => {
  it("has one spec per task folder, and each entry point runs its own spec from the table", () => {
    assert.deepEqual(Object.keys(TASKS).sort(), MANIFESTS.map((m) => m.folder).sort());
    for (const name of Object.keys(TASKS)) {
      const entry = fs.readFileSync(path.join(repoRoot, "tasks", name, "index.ts"), "utf8");
      assert.match(entry, new RegExp(`runTask\\(TASKS\\.${name}\\)`), `tasks/${name}/index.ts`);
    }
  });

  it("a mode input offers exactly the values the spec maps to actions, with the same default", () => {
    for (const source of MANIFESTS) {
      const action = TASKS[source.folder].action;
      if (!action || typeof action === "string") continue;
      const input = source.inputs.find((i) => i.name === action.name) as { options?: Record<string, string>; defaultValue?: string } | undefined;
      assert.ok(input, `${source.folder} has no input ${action.name}`);
      assert.deepEqual(Object.keys(input.options ?? {}).sort(), Object.keys(action.actions).sort(), `${source.folder}.${action.name}`);
      assert.equal(input.defaultValue, action.default);
    }
  });
});
