/**
 * Runtime expressions of Azure Pipelines as far as a local run needs them:
 * `$(variable)` macros and `condition:` expressions (succeeded(), always(), and(), eq(variables['x'], 'y') …).
 */

/** Variables by case-insensitive name; YAML values may themselves hold macros. */
export class VariableScope {
  private readonly values = new Map<string, { name: string; value: string; expand: boolean }>();

  constructor(private readonly parent?: VariableScope) {}

  /** `expand`: the value may reference other variables (YAML and command-line values); runtime outputs are taken verbatim. */
  set(name: string, value: string, options: { expand?: boolean } = {}): void {
    this.values.set(name.toLowerCase(), { name, value, expand: options.expand ?? true });
  }

  get(name: string): string | undefined {
    return this.lookup(name, new Set());
  }

  has(name: string): boolean {
    return this.entry(name.toLowerCase()) !== undefined;
  }

  /** Every variable, inner scopes winning, values expanded: what the agent exports to a task's environment. */
  all(): Record<string, string> {
    const names = new Map<string, string>();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks the scope chain from here
    for (let scope: VariableScope | undefined = this; scope; scope = scope.parent) {
      for (const [key, entry] of scope.values) if (!names.has(key)) names.set(key, entry.name);
    }
    const out: Record<string, string> = {};
    for (const name of names.values()) out[name] = this.get(name) ?? "";
    return out;
  }

  private entry(key: string): { name: string; value: string; expand: boolean } | undefined {
    return this.values.get(key) ?? this.parent?.entry(key);
  }

  private lookup(name: string, seen: Set<string>): string | undefined {
    const key = name.toLowerCase();
    const entry = this.entry(key);
    if (!entry) return undefined;
    if (!entry.expand || seen.has(key)) return entry.value;
    // A variable may reference another; a cycle leaves the inner reference as written.
    const inner = new Set(seen).add(key);
    return replaceMacros(entry.value, (ref) => this.lookup(ref, inner));
  }
}

function replaceMacros(text: string, lookup: (name: string) => string | undefined): string {
  // Like the agent: `$(name)` of a known variable is replaced, an unknown one stays as written.
  return text.replace(/\$\(([^()]+)\)/g, (whole, name: string) => lookup(name) ?? whole);
}

export function expandMacros(text: string, variables: VariableScope): string {
  return replaceMacros(text, (name) => variables.get(name));
}

/** Macros left unexpanded (no such variable): worth a warning, as a typo is the usual cause. */
export function unexpandedMacros(text: string): string[] {
  return [...text.matchAll(/\$\(([^()]+)\)/g)].map((m) => m[1]!);
}

// ---- condition expressions -------------------------------------------------------------

export type ConditionValue = string | number | boolean | null;

export interface ConditionContext {
  variables: VariableScope;
  /** Results this condition depends on (previous steps' job status, or named dependencies). */
  dependencyResults(names: string[]): string[];
  /**
   * `dependencies.<job>.outputs['<step>.<var>']`, `dependencies.<job>.result`,
   * `stageDependencies.<stage>.<job>.outputs['<step>.<var>']` as path segments
   * (["dependencies", "deploy", "outputs", "submit.jobName"]); null when there is no such value.
   */
  dependency?(path: string[]): ConditionValue;
}

type Node =
  | { kind: "literal"; value: ConditionValue }
  | { kind: "variable"; name: string }
  | { kind: "dependency"; path: string[] }
  | { kind: "call"; name: string; args: Node[] };

type Token = { type: "string" | "number" | "ident" | "punct"; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'") {
      let text = "";
      i++;
      for (;;) {
        if (i >= source.length) throw new Error(`unterminated string in condition: ${source}`);
        if (source[i] === "'" && source[i + 1] === "'") {
          text += "'";
          i += 2;
        } else if (source[i] === "'") {
          i++;
          break;
        } else text += source[i++];
      }
      tokens.push({ type: "string", text });
    } else if ("(),[]".includes(ch)) {
      tokens.push({ type: "punct", text: ch });
      i++;
    } else {
      const match = /^(-?\d+(\.\d+)?)|^[A-Za-z_][A-Za-z0-9_.-]*/.exec(source.slice(i));
      if (!match) throw new Error(`unexpected '${ch}' in condition: ${source}`);
      tokens.push({ type: match[1] !== undefined ? "number" : "ident", text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

const FUNCTIONS = new Set([
  "and", "or", "not", "xor", "eq", "ne", "gt", "ge", "lt", "le", "in", "notin", "contains", "startswith", "endswith",
  "coalesce", "succeeded", "failed", "always", "succeededorfailed", "canceled",
]);

/** Parses a condition; throws with the reason when it is not an expression this runner understands. */
export function parseCondition(source: string): Node {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const expect = (text: string) => {
    const t = tokens[pos++];
    if (!t || t.text !== text) throw new Error(`expected '${text}' in condition: ${source}`);
  };
  const parse = (): Node => {
    const t = tokens[pos++];
    if (!t) throw new Error(`condition ends early: ${source}`);
    if (t.type === "string") return { kind: "literal", value: t.text };
    if (t.type === "number") return { kind: "literal", value: Number(t.text) };
    if (t.type !== "ident") throw new Error(`unexpected '${t.text}' in condition: ${source}`);
    const lower = t.text.toLowerCase();
    if (lower === "true" || lower === "false") return { kind: "literal", value: lower === "true" };
    if (lower === "null") return { kind: "literal", value: null };
    if (peek()?.text === "(") {
      if (!FUNCTIONS.has(lower)) throw new Error(`function '${t.text}' is not supported by the local runner (condition: ${source})`);
      pos++;
      const args: Node[] = [];
      if (peek()?.text !== ")") {
        args.push(parse());
        while (peek()?.text === ",") {
          pos++;
          args.push(parse());
        }
      }
      expect(")");
      return { kind: "call", name: lower, args };
    }
    if (lower === "variables") {
      if (peek()?.text !== "[") throw new Error(`write variables['name'] or variables.name (condition: ${source})`);
      pos++;
      const name = tokens[pos++];
      if (!name || name.type !== "string") throw new Error(`variables[...] needs a quoted name (condition: ${source})`);
      expect("]");
      return { kind: "variable", name: name.text };
    }
    if (lower.startsWith("variables.")) return { kind: "variable", name: t.text.slice("variables.".length) };
    if (lower.startsWith("dependencies.") || lower.startsWith("stagedependencies.")) {
      const path = t.text.split(".");
      // outputs['step.var']: the index is one segment, dots and all.
      while (peek()?.text === "[") {
        pos++;
        const index = tokens[pos++];
        if (!index || index.type !== "string") throw new Error(`${t.text}[...] needs a quoted name (expression: ${source})`);
        expect("]");
        path.push(index.text);
      }
      return { kind: "dependency", path };
    }
    throw new Error(`'${t.text}' is not supported by the local runner (condition: ${source})`);
  };
  const node = parse();
  if (pos !== tokens.length) throw new Error(`unexpected '${tokens[pos]!.text}' in condition: ${source}`);
  return node;
}

function truthy(value: ConditionValue): boolean {
  if (typeof value === "string") return value.length > 0;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  return value === true;
}

/** Compares like the service: numbers as numbers when the left side is one, strings case-insensitively. */
function compare(left: ConditionValue, right: ConditionValue): number {
  if (typeof left === "number") {
    const r = Number(right);
    return left === r ? 0 : left < r ? -1 : 1;
  }
  if (typeof left === "boolean") {
    const r = typeof right === "string" ? right.toLowerCase() === "true" : truthy(right);
    return left === r ? 0 : 1;
  }
  const l = String(left ?? "").toLowerCase();
  const r = String(right ?? "").toLowerCase();
  return l === r ? 0 : l < r ? -1 : 1;
}

const OK_RESULTS = new Set(["Succeeded", "SucceededWithIssues"]);

export function evaluateCondition(node: Node, context: ConditionContext): ConditionValue {
  if (node.kind === "literal") return node.value;
  if (node.kind === "variable") return context.variables.get(node.name) ?? "";
  if (node.kind === "dependency") return context.dependency?.(node.path) ?? null;
  const args = () => node.args.map((a) => evaluateCondition(a, context));
  const names = () => args().map((a) => String(a));
  const str = (v: ConditionValue) => String(v ?? "").toLowerCase();
  switch (node.name) {
    case "and":
      return node.args.every((a) => truthy(evaluateCondition(a, context)));
    case "or":
      return node.args.some((a) => truthy(evaluateCondition(a, context)));
    case "not":
      return !truthy(args()[0] ?? null);
    case "xor": {
      const [a, b] = args();
      return truthy(a ?? null) !== truthy(b ?? null);
    }
    case "eq":
    case "ne":
    case "gt":
    case "ge":
    case "lt":
    case "le": {
      const [a = null, b = null] = args();
      const c = compare(a, b);
      return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[node.name];
    }
    case "in":
    case "notin": {
      const [first = null, ...rest] = args();
      const found = rest.some((r) => compare(first, r) === 0);
      return node.name === "in" ? found : !found;
    }
    case "contains": {
      const [a = null, b = null] = args();
      return str(a).includes(str(b));
    }
    case "startswith": {
      const [a = null, b = null] = args();
      return str(a).startsWith(str(b));
    }
    case "endswith": {
      const [a = null, b = null] = args();
      return str(a).endsWith(str(b));
    }
    case "coalesce":
      return args().find((a) => a !== null && a !== "") ?? null;
    case "always":
      return true;
    case "canceled":
      // A local run is never canceled part-way and then continued.
      return false;
    case "succeeded":
      return context.dependencyResults(names()).every((r) => OK_RESULTS.has(r));
    case "failed":
      return context.dependencyResults(names()).some((r) => r === "Failed");
    case "succeededorfailed":
      return context.dependencyResults(names()).every((r) => OK_RESULTS.has(r) || r === "Failed");
    default:
      throw new Error(`function '${node.name}' is not supported`);
  }
}

export function conditionHolds(source: string, context: ConditionContext): boolean {
  return truthy(evaluateCondition(parseCondition(source), context));
}

/** `$[ expression ]`: the whole value of a variable evaluated at run time, else undefined. */
export function runtimeExpression(value: string): string | undefined {
  const m = /^\s*\$\[([\s\S]*)\]\s*$/.exec(value);
  return m ? m[1]!.trim() : undefined;
}

/** A runtime expression's value as the service turns it into a variable: booleans as True/False, null as empty. */
export function evaluateExpression(source: string, context: ConditionContext): string {
  const value = evaluateCondition(parseCondition(source), context);
  if (value === null) return "";
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}
