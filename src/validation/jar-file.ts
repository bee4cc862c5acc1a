/** The jar a step names (jarFile), found on the agent: both backends upload it. */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors";
import * as rule from "./rules";

/**
 * The one `.jar` a path or pattern names, under the working directory (or an absolute path).
 * Patterns: `*` and `?` within a name, `**` across folders.
 */
export function resolveJarFile(input: string, pattern: string, workingDirectory: string): { path: string; size: number } {
  const absolute = path.resolve(workingDirectory, pattern);
  let matches: string[];
  if (!/[*?]/.test(pattern)) {
    matches = fs.existsSync(absolute) && fs.statSync(absolute).isFile() ? [absolute] : [];
  } else {
    const parts = absolute.split(path.sep);
    const firstGlob = parts.findIndex((p) => /[*?]/.test(p));
    const root = parts.slice(0, firstGlob).join(path.sep) || path.sep;
    const regex = globRegex(parts.slice(firstGlob).join("/"));
    matches = [];
    const walk = (dir: string, rel: string, depth: number) => {
      if (depth > 32 || matches.length > 20) return;
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const relPath = rel ? `${rel}/${entry.name}` : entry.name;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full, relPath, depth + 1);
        else if (entry.isFile() && regex.test(relPath)) matches.push(full);
      }
    };
    walk(root, "", 0);
  }
  const shown = (files: string[]) => files.slice(0, 5).map((f) => path.relative(workingDirectory, f) || f).join(", ") + (files.length > 5 ? ", …" : "");
  if (matches.length === 0) {
    throw new InputError(
      input,
      `no file matches ${rule.show(pattern)} under ${workingDirectory} (the pipeline's working directory, System.DefaultWorkingDirectory, where a relative pattern resolves): build the jar in an earlier step of this job, or correct the pattern`,
    );
  }
  if (matches.length > 1) throw new InputError(input, `${rule.show(pattern)} matches ${matches.length > 20 ? "more than 20" : matches.length} files (${shown(matches)}); it must match exactly one .jar`);
  const file = matches[0]!;
  if (!/\.jar$/i.test(file)) throw new InputError(input, `${rule.show(pattern)} matches ${shown([file])}, which is not a .jar file`);
  return { path: file, size: fs.statSync(file).size };
}

function globRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` matches any number of folders, including none.
      if (glob[i + 2] === "/") {
        re += "(?:[^/]+/)*";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
