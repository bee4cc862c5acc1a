/**
 * What a plain, unbundled task ships: its script plus every package its dependencies pull in
 * (the node_modules closure, resolved the way Node resolves them), counted file by file.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function walk(dir: string, visit: (file: string, bytes: number) => void): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    // Nested node_modules are packages of their own, counted when the closure reaches them.
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") walk(full, visit);
    } else if (entry.isFile()) visit(full, fs.statSync(full).size);
  }
}

export function shipSize(script: string, dependencies: string[], root: string): { bytes: number; files: number; packages: number } {
  let bytes = fs.statSync(script).size;
  let files = 1;
  const seen = new Set<string>();
  const queue = dependencies.map((name) => ({ name, from: root }));
  while (queue.length) {
    const { name, from } = queue.shift()!;
    const dir = packageDir(name, from);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    walk(dir, (_file, size) => {
      bytes += size;
      files++;
    });
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir });
  }
  return { bytes, files, packages: seen.size };
}
