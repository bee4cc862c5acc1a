import { InputError } from "../errors";
import { plainText, show } from "./rules";

/** Keys the task sets from inputs of their own; setting them twice would be ambiguous. */
const OWNED_KEYS: Record<string, string> = { parallelism: "parallelism", "savepoint.directory": "savepointDirectory" };

/**
 * `flinkConfiguration`: `key=value` lines (blank lines and `#` comments allowed) or one JSON
 * object. Every value becomes a string, as the API requires. Errors give the line number.
 */
export function parseFlinkConfiguration(input: string, raw: string | undefined): Record<string, string> {
  const text = (raw ?? "").trim();
  if (!text) return {};
  const config = text.startsWith("{") ? fromJson(input, text) : fromLines(input, raw ?? "");
  for (const [key, value] of Object.entries(config)) {
    const owner = OWNED_KEYS[key];
    if (owner) throw new InputError(input, `sets '${key}', which the '${owner}' input sets; use that input instead`);
    if (!/^[A-Za-z0-9_.\-]+$/.test(key)) throw new InputError(input, `key ${show(key)} is not a Flink configuration key (letters, digits, '.', '_', '-')`);
    plainText(`${input}' key '${key}`, value, { maxLength: 4096 });
  }
  return config;
}

function fromLines(input: string, text: string): Record<string, string> {
  const config: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) return;
    const at = `line ${index + 1}`;
    const eq = trimmed.indexOf("=");
    const colon = trimmed.indexOf(": ");
    // Flink's own config file writes `key: value`; accept it too.
    const split = eq > 0 ? eq : colon > 0 ? colon : -1;
    if (split <= 0) throw new InputError(input, `${at}: ${show(trimmed)} is not 'key=value'`);
    const key = trimmed.slice(0, split).trim();
    const value = trimmed.slice(split + (split === eq ? 1 : 2)).trim();
    if (!key) throw new InputError(input, `${at}: the key is empty`);
    if (key in config) throw new InputError(input, `${at}: '${key}' is set twice`);
    if (!value) throw new InputError(input, `${at}: '${key}' has no value`);
    config[key] = value;
  });
  return config;
}

function fromJson(input: string, text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const line = position === undefined ? undefined : text.slice(0, Number(position)).split("\n").length;
    throw new InputError(input, `is not valid JSON${line ? ` (line ${line})` : ""}: ${(error as Error).message.replace(/^.*?JSON[^:]*:\s*/, "")}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new InputError(input, "JSON must be one object of settings");
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === "string") config[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") config[key] = String(value);
    else throw new InputError(input, `'${key}' must be a string, number or boolean, not ${value === null ? "null" : Array.isArray(value) ? "an array" : "an object"}`);
  }
  return config;
}
