/**
 * Builds the .vsix: bundles the tasks, stages exactly what ships in dist/extension
 * (manifest, overview, icon, tasks/<Task>/: task.json, icon.png and the split bundle, scripts/build.ts) and runs tfx there,
 * so tfx checks the staged tasks rather than the sources.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { vsixSize } from "./bench/report";
import { buildTasks } from "./build";

const root = path.resolve(__dirname, "..");
const stage = path.join(root, "dist", "extension");

/** The extension's icon and the images the overview page shows; nothing else of images/. */
export function shippedImages(): string[] {
  const overview = fs.readFileSync(path.join(root, "overview.md"), "utf8");
  const referenced = [...overview.matchAll(/\(\.?\/?(images\/[\w.-]+\.(?:png|jpg|gif|svg))\)/g)].map((m) => m[1]!);
  return [...new Set(["images/extension-icon.png", ...referenced])];
}

export async function packageExtension(): Promise<string> {
  await buildTasks();
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(stage, "images"), { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "vss-extension.json"), "utf8")) as { files: { path: string }[] };
  manifest.files = manifest.files.map((f) => (f.path === "dist/tasks" ? { ...f, path: "tasks", packagePath: undefined } : f)) as typeof manifest.files;
  fs.writeFileSync(path.join(stage, "vss-extension.json"), JSON.stringify(manifest, null, 2));
  fs.copyFileSync(path.join(root, "overview.md"), path.join(stage, "overview.md"));
  for (const image of shippedImages()) fs.copyFileSync(path.join(root, image), path.join(stage, image));
  fs.cpSync(path.join(root, "dist", "tasks"), path.join(stage, "tasks"), { recursive: true });
  const tfx = path.join(root, "node_modules", "tfx-cli", "_build", "tfx-cli.js");
  const out = path.join(root, "dist");
  // One .vsix in dist/: the one this run makes (older versions would be mistaken for it).
  for (const old of fs.readdirSync(out).filter((f) => f.endsWith(".vsix"))) fs.rmSync(path.join(out, old));
  execFileSync(process.execPath, [tfx, "extension", "create", "--root", stage, "--manifest-globs", "vss-extension.json", "--output-path", out, "--no-prompt", "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
    cwd: stage,
  });
  const vsix = fs.readdirSync(out).filter((f) => f.endsWith(".vsix")).map((f) => path.join(out, f))[0];
  if (!vsix) throw new Error("tfx produced no .vsix");
  return vsix;
}

/** What npm run package prints: the file and its size, in the form docs/performance.md uses. */
export function packageSummary(vsix: string): string {
  return `${path.relative(root, vsix)}: ${vsixSize(fs.statSync(vsix).size)}`;
}

if (require.main === module) {
  packageExtension()
    .then((vsix) => console.log(packageSummary(vsix)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
