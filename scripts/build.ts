/**
 * Bundles each task into one minified file and stages what the .vsix ships:
 * dist/tasks/<Task>/{index.js, task.json, icon.png}. Nothing else of the repo goes in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";

const root = path.resolve(__dirname, "..");

export function taskFolders(): string[] {
  const dir = path.join(root, "tasks");
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, "task.json")) && fs.existsSync(path.join(dir, name, "index.ts")))
    .sort();
}

export async function buildTasks(options: { only?: string[]; metafile?: boolean } = {}): Promise<void> {
  const tasks = taskFolders().filter((t) => !options.only || options.only.includes(t));
  await Promise.all(
    tasks.map(async (task) => {
      const out = path.join(root, "dist", "tasks", task);
      fs.rmSync(out, { recursive: true, force: true });
      fs.mkdirSync(out, { recursive: true });
      const result = await build({
        entryPoints: [path.join(root, "tasks", task, "index.ts")],
        outfile: path.join(out, "index.js"),
        bundle: true,
        minify: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        legalComments: "none",
        metafile: options.metafile ?? false,
        logLevel: "warning",
      });
      if (result.metafile) fs.writeFileSync(path.join(root, "dist", `${task}.meta.json`), JSON.stringify(result.metafile));
      for (const file of ["task.json", "icon.png"]) {
        const from = path.join(root, "tasks", task, file);
        if (fs.existsSync(from)) fs.copyFileSync(from, path.join(out, file));
      }
    }),
  );
}

if (require.main === module) {
  buildTasks({ metafile: process.argv.includes("--metafile") }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
