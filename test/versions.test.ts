/**
 * Agents cache a task by version: a change that ships without a version bump never reaches them.
 * Runs on the bundles `npm test` has just built.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { taskFolders } from "../scripts/build";
import { folderMajor, parseVersion, readVersionLock, taskContentHash } from "../scripts/versions";
import { repoRoot } from "./harness/agent";

describe("versions that reach agents", () => {
  const lock = readVersionLock();

  for (const folder of taskFolders()) {
    it(`${folder}: what it ships is what its version was recorded with`, () => {
      const entry = lock.tasks[folder];
      assert.ok(entry, `${folder} is not in task-versions.json: run npm run bump`);
      assert.equal(
        taskContentHash(folder),
        entry.contentHash,
        `${folder} changed since version ${entry.version} was recorded, without a version bump: run npm run bump`,
      );
    });

    it(`${folder}: task.json carries the recorded version, and its major version is the folder's`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "tasks", folder, "task.json"), "utf8")) as { version: unknown };
      assert.deepEqual(manifest.version, parseVersion(lock.tasks[folder]!.version));
      assert.equal(parseVersion(lock.tasks[folder]!.version).Major, folderMajor(folder));
    });
  }

  it("the extension's version is the same in vss-extension.json, package.json, package-lock.json and task-versions.json", () => {
    for (const file of ["vss-extension.json", "package.json", "package-lock.json"]) {
      const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, file), "utf8")) as { version: string };
      assert.equal(version, lock.extension, file);
    }
  });

  it("detects a change: a bundle that differs by one byte no longer matches its recorded hash", () => {
    const folder = taskFolders()[0]!;
    const bundle = path.join(repoRoot, "dist", "tasks", folder, "index.js");
    const original = fs.readFileSync(bundle);
    try {
      fs.writeFileSync(bundle, Buffer.concat([original, Buffer.from(";")]));
      assert.notEqual(taskContentHash(folder), lock.tasks[folder]!.contentHash);
    } finally {
      fs.writeFileSync(bundle, original);
    }
  });
});
