/** npm run emulator as a newcomer meets it: a line to paste that runs a pipeline against it; a busy port in one line. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../../emulator/index";
import { repoRoot } from "../../pipeline-runner/agent-process";
import { parseCliArgs, runPipelineFile } from "../../pipeline-runner/cli";
import { RunLog } from "../../pipeline-runner/log";
import { tempDir } from "../harness/temp";

const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
const cli = path.join(repoRoot, "emulator", "cli.ts");

describe("npm run emulator, for a pipeline user", function () {
  this.timeout(120_000);

  it("prints a ready-to-paste npm run pipeline line that runs a pipeline against it", async () => {
    const child = spawn(tsx, [cli, "--port", "0", "--time-scale", "20"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes("Ctrl+C") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const line = /^ {2}npm run pipeline -- <your-pipeline\.yml> (.+)$/m.exec(out)?.[1];
      assert.ok(line, out);
      const file = path.join(tempDir("paste-"), "p.yml");
      fs.writeFileSync(
        file,
        "steps:\n  - task: FlinkJobStatus@1\n    name: status\n    inputs: { azureSubscription: mine, resourceGroupName: rg-pasted, clusterPoolName: pool, clusterName: cluster }\n",
      );
      const lines: string[] = [];
      const { exitCode, run } = await runPipelineFile(parseCliArgs([file, ...line.split(" ")]), { log: new RunLog((l) => lines.push(l)) });
      assert.equal(exitCode, 0, lines.join("\n"));
      assert.equal(run!.steps[0]!.outputs["jobCount"], "0");
      assert.match(lines.join("\n"), /cluster cluster in pool pool, resource group rg-pasted/);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });

  describe("a busy port", () => {
    let emulator: Emulator;
    before(async () => {
      emulator = await startEmulator({ port: 0 });
    });
    after(async () => emulator?.close());

    it("gives a one-line error naming the port and what to do, no stack trace", () => {
      const port = new URL(emulator.url).port;
      const child = spawnSync(tsx, [cli, "--port", port], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
      assert.equal(child.status, 1);
      assert.equal(child.stderr.trim(), `npm run emulator: port 127.0.0.1:${port} is already in use (another emulator?): stop it, or choose another port with --port <n> (0 = any free port)`);
      assert.doesNotMatch(child.stderr + child.stdout, /\n\s+at /);
    });
  });
});
