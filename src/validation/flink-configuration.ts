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
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new InputError(input, `key ${show(key)} is not a Flink configuration key (letters, digits, '.', '_', '-')`);
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
    // Flink's own config file writes `key: value`; accept it too. The first separator splits:
    // `env.java.opts: -Dfoo=bar` is the key env.java.opts.
    const split = eq > 0 && (colon <= 0 || eq < colon) ? eq : colon > 0 ? colon : -1;
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

/**
 * One flat JSON object of settings. A small parser of our own, because JSON.parse on Node 20
 * does not say where an error is, and a line number is what a user needs.
 */
function fromJson(input: string, text: string): Record<string, string> {
  let i = 0;
  const fail = (problem: string, at = i): never => {
    throw new InputError(input, `is not a valid JSON object of settings (line ${text.slice(0, at).split("\n").length}): ${problem}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    space();
    if (text[i] !== c) fail(i >= text.length ? `expected '${c}' but the text ended` : `expected '${c}' but found '${text[i]}'`);
    i++;
  };
  const string = (): string => {
    const begin = i;
    expect('"');
    let end = i;
    while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
    if (end >= text.length) fail("a string is not closed", begin);
    i = end + 1;
    try {
      return JSON.parse(text.slice(begin, i)) as string;
    } catch {
      return fail("a string has an invalid escape", begin);
    }
  };
  const config: Record<string, string> = {};
  expect("{");
  space();
  if (text[i] === "}") i++;
  else {
    for (;;) {
      space();
      const keyAt = i;
      const key = string();
      if (key in config) fail(`'${key}' is set twice`, keyAt);
      expect(":");
      space();
      const c = text[i];
      if (c === '"') config[key] = string();
      else if (c === "{" || c === "[" || text.startsWith("null", i)) {
        fail(`'${key}' must be a string, number or boolean, not ${c === "{" ? "an object" : c === "[" ? "an array" : "null"}`);
      } else {
        const literal = /^(true|false|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)(?![\w.])/.exec(text.slice(i))?.[0];
        if (!literal) fail(/^-?0\d/.test(text.slice(i)) ? `'${key}' is a number with a leading zero, which JSON does not allow; write it as a string ("01")` : `'${key}' has no valid value`);
        config[key] = String(JSON.parse(literal!));
        i += literal!.length;
      }
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      expect("}");
      break;
    }
  }
  space();
  if (i < text.length) fail("unexpected text after the object");
  return config;
}
