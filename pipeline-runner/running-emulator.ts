/**
 * An emulator that `npm run emulator` runs in another terminal, reached through its loopback
 * control API: its connection values (/_emulator/info), and the clusters and jars a pipeline names
 * (/_emulator/clusters, /_emulator/jars). Its jobs outlive one run, so a reader can try a page's
 * examples one after the other.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { ClusterAddress } from "../emulator/index";
import type { EmulatorEndpoint } from "./connection";

export class RunningEmulator {
  private constructor(
    readonly endpoint: EmulatorEndpoint,
    private readonly baseUrl: string,
    private readonly ca: string,
  ) {}

  static async connect(url: string, caFile: string): Promise<RunningEmulator> {
    const caPath = path.resolve(caFile);
    if (!fs.existsSync(caPath)) throw new Error(`--ca-file: no such file '${caFile}' (npm run emulator prints the path of its ca.pem)`);
    const base = url.replace(/\/+$/, "");
    const ca = fs.readFileSync(caPath, "utf8");
    const info = (await request(base, ca, "GET", "/_emulator/info")) as EmulatorEndpoint;
    if (typeof info?.armUrl !== "string" || typeof info.servicePrincipal?.clientSecret !== "string") throw new Error(`${base}/_emulator/info did not answer with the emulator's connection values`);
    return new RunningEmulator({ ...info, caCertPath: caPath }, base, ca);
  }

  readonly clusters = { add: (address: ClusterAddress) => this.send("/_emulator/clusters", address) };
  readonly storage = { addJar: (jobJarDirectory: string, jarName: string) => this.send("/_emulator/jars", { jobJarDirectory, jarName }) };
  private readonly pending: Promise<string | undefined>[] = [];

  private send(route: string, body: unknown): void {
    this.pending.push(request(this.baseUrl, this.ca, "POST", route, body).then(() => undefined, (error: Error) => error.message));
  }

  /** Waits for every addition sent; returns what the emulator refused. */
  async settled(): Promise<string[]> {
    return (await Promise.all(this.pending.splice(0))).filter((r): r is string => r !== undefined);
  }
}

function request(base: string, ca: string, method: string, route: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(`${base}${route}`, { method, ca, headers: payload ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${base}${route}: ${res.statusCode} ${(json as { error?: string })?.error ?? text.slice(0, 200)}`));
        else resolve(json);
      });
    });
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "ECONNREFUSED" ? `no emulator answers at ${base} (start it with npm run emulator)` : `${base}: ${error.message}`)),
    );
    req.end(payload);
  });
}
