/**
 * What the Azure DevOps server does with an endpoint type's data source (the connection's
 * "Verify", a task's picklist binding): fill the mustache URL from the connection, send the
 * request with the scheme's credentials, select with the JSONPath, apply the result template.
 * Just enough mustache and JSONPath for our manifests; anything else is refused, not guessed.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { ConnectionEnv } from "./agent";
import { repoRoot } from "./agent";

export interface DataSource {
  name: string;
  endpointUrl: string;
  resultSelector: string;
}

export function endpointTypeDataSources(typeName: string): DataSource[] {
  const ext = JSON.parse(fs.readFileSync(path.join(repoRoot, "vss-extension.json"), "utf8")) as { contributions: { properties: { name?: string; dataSources?: DataSource[] } }[] };
  const type = ext.contributions.find((c) => c.properties.name === typeName);
  if (!type?.properties.dataSources) throw new Error(`vss-extension.json has no endpoint type ${typeName} with data sources`);
  return type.properties.dataSources;
}

/** `{{endpoint.url}}`, `{{{endpoint.url}}}`, `{{endpoint.<parameter or data>}}`, and an item's `{{{field}}}`. */
export function mustache(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{\{\{?\s*([\w.]+)\s*\}?\}\}/g, (whole, key: string) => {
    const value = key.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), values);
    if (value === undefined) throw new Error(`${whole} has no value`);
    return String(value);
  });
}

/** `$.a.b`, `$['a-b']`, `$.list[*]`: the JSONPath our selectors use. */
export function jsonPath(selector: string, data: unknown): unknown[] {
  const expression = selector.replace(/^jsonpath:/, "");
  if (!expression.startsWith("$")) throw new Error(`not a JSONPath: ${selector}`);
  let current: unknown[] = [data];
  const token = /\.([\w$-]+)|\['([^']+)'\]|\[\*\]/y;
  token.lastIndex = 1;
  while (token.lastIndex < expression.length) {
    const m = token.exec(expression);
    if (!m) throw new Error(`unsupported JSONPath ${selector}`);
    const key = m[1] ?? m[2];
    current =
      key !== undefined
        ? current.flatMap((v) => (v && typeof v === "object" && key in v ? [(v as Record<string, unknown>)[key]] : []))
        : current.flatMap((v) => (Array.isArray(v) ? v : []));
  }
  return current;
}

export interface DataSourceAnswer {
  status: number;
  url: string;
  items: unknown[];
}

/** Resolves a data source for a connection as the server would, with the scheme's credentials. */
export async function resolveDataSource(source: DataSource, connection: ConnectionEnv): Promise<DataSourceAnswer> {
  const url = mustache(source.endpointUrl, { endpoint: { url: connection.url, ...connection.parameters, ...connection.data } });
  const headers: Record<string, string> = { Accept: "application/json" };
  const p = connection.parameters;
  if (connection.scheme === "UsernamePassword") headers["Authorization"] = `Basic ${Buffer.from(`${p["username"]}:${p["password"]}`).toString("base64")}`;
  if (connection.scheme === "Token") headers["Authorization"] = `Bearer ${p["apitoken"]}`;
  const tls: https.RequestOptions = { agent: false };
  if (connection.data["caCertificate"]) tls.ca = connection.data["caCertificate"];
  if (connection.scheme === "Certificate") {
    tls.cert = p["certificate"];
    tls.key = p["certificate"];
  }
  const response = await fetchText(url, headers, tls);
  if (response.status !== 200) return { status: response.status, url, items: [] };
  return { status: response.status, url, items: jsonPath(source.resultSelector, JSON.parse(response.text)) };
}

async function fetchText(url: string, headers: Record<string, string>, tls: https.RequestOptions): Promise<{ status: number; text: string }> {
  const client = url.startsWith("https:") ? https : await import("node:http");
  return new Promise((resolve, reject) => {
    client
      .get(url, { headers, ...(url.startsWith("https:") ? tls : { agent: false }) }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on("error", reject);
  });
}
