/**
 * Bundles each task and stages what the .vsix ships: dist/tasks/<Task>/ with task.json, icon.png
 * and the task's code, split so that a run parses only what its `target` needs:
 *   index.js           the handler task.json names (Node20_1 and Node24): a CommonJS stub that imports task.mjs
 *   task.mjs           the entry: inputs, the flow, the agent (task-lib); it imports one backend
 *   flink-rest.mjs     the Flink REST backend (the Flink client)
 *   hdinsight-aks.mjs  the HDInsight on AKS backend (the ARM client, @azure/identity)
 *   chunk-<hash>.mjs   code two of the files above share, and what they fetch lazily (the identity
 *                      library for an Entra ID gateway, FlinkJobDeploy's storage SDK)
 * ES modules because only they split (esbuild's code splitting); the dynamic imports that make the
 * split are in src/backends/index.ts. Nothing else of the repo goes in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isBuiltin } from "node:module";
import { build, type Metafile, type Plugin } from "esbuild";

const root = path.resolve(__dirname, "..");

/** The handler's file: task.json's Node20_1 and Node24 targets (scripts/task-manifests.ts). */
export const HANDLER_FILE = "index.js";
export const ENTRY_FILE = "task.mjs";
/** Each backend's own file in a task folder. */
export const BACKEND_FILES = { flinkRest: "flink-rest.mjs", hdinsightAks: "hdinsight-aks.mjs" } as const;

/** ES module code that needs CommonJS's require, __filename and __dirname (task-lib reads its strings beside itself). */
const ESM_PRELUDE =
  'import{createRequire as __createRequire}from"node:module";import{fileURLToPath as __fileURLToPath}from"node:url";import{dirname as __pathDirname}from"node:path";' +
  "const require=__createRequire(import.meta.url),__filename=__fileURLToPath(import.meta.url),__dirname=__pathDirname(__filename);";

/**
 * Parts of dependencies the tasks never use, left out because a run would parse or start them for
 * nothing: axios's fetch adapter builds a Request on load (which starts Node's fetch, undici) but
 * the tasks use its http adapter; its check for Node's FormData, which reads the global (that too
 * starts undici) on load, where its other test (the object's tag) knows Node's FormData all the
 * same; its HTTP/2 transport (never asked for: no httpVersion); and the media type table of
 * form-data (jar uploads send Node's own FormData, which axios streams itself).
 */
const UNUSED: Plugin = {
  name: "unused-dependency-parts",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]adapters[\\/]fetch\.js$/ }, () => ({ contents: "export const getFetch = () => false; export default false;", loader: "js" }));
    b.onLoad({ filter: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]utils\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, "utf8");
      const eager = "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;";
      // An upgrade of axios that changes the line fails the build rather than loading undici again unnoticed.
      if (!source.includes(eager)) throw new Error(`${args.path}: the FormData line this build replaces is gone; review UNUSED in scripts/build.ts`);
      return { contents: source.replace(eager, "const FormDataCtor = undefined;"), loader: "js" };
    });
    b.onResolve({ filter: /^http2$/ }, (args) => (/[\\/]node_modules[\\/]axios[\\/]/.test(args.importer) ? { path: "http2", namespace: "unused" } : undefined));
    b.onLoad({ filter: /^http2$/, namespace: "unused" }, () => ({ contents: "export default {};", loader: "js" }));
    b.onResolve({ filter: /^mime-db$/ }, () => ({ path: "mime-db", namespace: "unused" }));
    b.onLoad({ filter: /^mime-db$/, namespace: "unused" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

/**
 * Node's built-in modules by require(), not as ES module imports: Node builds an imported built-in's
 * namespace from all of its exports on load, which runs their lazy getters (node:crypto's webcrypto,
 * node:tls's root certificates, …); a require hands over the module and reads only what is used.
 */
const BUILTINS_BY_REQUIRE: Plugin = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)?$/ }, (args) =>
      args.kind === "import-statement" && isBuiltin(args.path) ? { path: args.path.replace(/^node:/, ""), namespace: "builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({ contents: `module.exports = require("node:${args.path}");`, loader: "js" }));
  },
};

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
      const metafile = await bundleTask(task, path.join(root, "dist", "tasks", task));
      if (options.metafile) fs.writeFileSync(path.join(root, "dist", `${task}.meta.json`), JSON.stringify(metafile));
    }),
  );
}

/** Builds one task folder into `out` (emptied first): its split bundle, task.json and icon. Returns esbuild's metafile. */
export async function bundleTask(task: string, out: string): Promise<Metafile> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: {
      [ENTRY_FILE.replace(/\.mjs$/, "")]: path.join(root, "tasks", task, "index.ts"),
      [BACKEND_FILES.flinkRest.replace(/\.mjs$/, "")]: path.join(root, "src", "backends", "flink-rest", "index.ts"),
      [BACKEND_FILES.hdinsightAks.replace(/\.mjs$/, "")]: path.join(root, "src", "backends", "hdinsight-aks", "index.ts"),
    },
    outdir: out,
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    platform: "node",
    target: "node20",
    legalComments: "none",
    banner: { js: ESM_PRELUDE },
    define: { "globalThis.FLINK_TASKS_SPLIT_BUNDLE": "true" },
    plugins: [UNUSED, BUILTINS_BY_REQUIRE],
    metafile: true,
    logLevel: "warning",
  });
  // A CommonJS stub: the agent runs `node index.js` in a folder with no package.json.
  fs.writeFileSync(path.join(out, HANDLER_FILE), `"use strict";import("./${ENTRY_FILE}");\n`);
  for (const file of ["task.json", "icon.png"]) {
    const from = path.join(root, "tasks", task, file);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(out, file));
  }
  return result.metafile;
}

/**
 * The files a run of a task loads for a target before its first request: the handler, the entry,
 * the backend and every file they import statically (not what they fetch later by import()).
 */
export function filesLoadedAtStart(metafile: Metafile, target: keyof typeof BACKEND_FILES): string[] {
  const outputs = new Map(Object.entries(metafile.outputs).map(([file, output]) => [path.basename(file), output]));
  const seen = new Set<string>([HANDLER_FILE]);
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const imported of outputs.get(name)?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) visit(path.basename(imported.path));
    }
  };
  visit(ENTRY_FILE);
  visit(BACKEND_FILES[target]);
  return [...seen].sort();
}

/** The source files and packages bundled into one output file, from the metafile (package names for node_modules). */
export function sourcesOf(metafile: Metafile, file: string): string[] {
  const output = Object.entries(metafile.outputs).find(([f]) => path.basename(f) === file)?.[1];
  return Object.keys(output?.inputs ?? {}).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input);
}

if (require.main === module) {
  buildTasks({ metafile: process.argv.includes("--metafile") }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
