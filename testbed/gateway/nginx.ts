// nginx from Debian's packages as the gateway in front of a real Flink cluster, the way teams
// protect Flink's REST API: basic auth, a static bearer token, Entra ID tokens checked through
// auth_request, or an OAuth2-proxy-like login (302 or HTML 200). Optionally https (a test CA),
// a path prefix (as an ingress) and a redirect to another host. Each gateway is its own nginx
// master (daemon off) with its config, logs and temp paths in a temp dir, on 127.0.0.1.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs, rmSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createTestCa, issueCertificate, LOOPBACK_ALT_NAMES } from "../tls/pki";
import { startTokenCheck, type TokenCheck, type TokenCheckOptions } from "./token-check";

export interface GatewayOptions {
  /** Flink's REST URL, http://127.0.0.1:<port> (the cluster's restUrl). */
  flinkUrl: string;
  /** Serve https with a certificate from a fresh test CA (caCertPath in the result). Default false. */
  https?: boolean;
  /** Serve Flink under this prefix, e.g. "/flink/orders/" (→ Flink's "/"), as an ingress does. */
  pathPrefix?: string;
  /**
   * Answer every request with 307 to the same path on another host (127.0.0.2, the same scheme),
   * where a second server proxies Flink without any auth and records the Authorization header it
   * received (otherHost.requests()).
   */
  redirectToOtherHost?: boolean;
}

export type GatewayAuth =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | { kind: "token"; token: string }
  | { kind: "entra"; tokenCheckUrl: string }
  | { kind: "loginRedirect" }
  | { kind: "loginPage" };

export interface OtherHostRequest {
  method: string;
  uri: string;
  /** The Authorization header the other host received, undefined when none. */
  authorization: string | undefined;
}

export interface Gateway {
  /** Base URL a client configures: scheme, 127.0.0.1, port and the path prefix, no trailing slash. */
  url: string;
  port: number;
  /** PEM file of the CA that signed the gateway's certificate (https only). */
  caCertPath?: string;
  caCertPem?: string;
  /** With redirectToOtherHost: the other host and what reached it. */
  otherHost?: { url: string; requests(): Promise<OtherHostRequest[]> };
  /** The gateway's temp dir (config, logs); removed by stop(). */
  dir: string;
  /** nginx's error log and access log, for failure messages. */
  logs(): Promise<string>;
  /** Stops nginx (SIGQUIT, then SIGKILL after 5 s) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface BasicGateway extends Gateway {
  username: string;
  password: string;
}
export interface TokenGateway extends Gateway {
  token: string;
}
export interface EntraGateway extends Gateway {
  /** The application ID URI the token must be for (its "aud"). */
  audience: string;
  /** The scope a client asks Entra for: `${audience}/.default`. */
  scope: string;
  tokenCheck: TokenCheck;
}

const LOGIN_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in to continue</h1>' +
  '<form method="get" action="/oauth2/start"><button type="submit">Sign in with Microsoft</button></form></body></html>';

const OTHER_HOST = "127.0.0.2";
const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Debian installs nginx in /usr/sbin, which a non-root PATH may lack. */
export function nginxBinary(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).concat("/usr/sbin")) {
    const candidate = path.join(dir, "nginx");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error("nginx is not installed: apt-get install -y nginx (Debian's package; .ci/run does it)");
}

function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === "/") return "/";
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(prefix)) throw new Error(`pathPrefix: '${prefix}' must start with / and hold only URL path characters`);
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/** An Apache MD5 (apr1) htpasswd line, as htpasswd(1) writes it, made by `openssl passwd -apr1`. */
function htpasswdLine(username: string, password: string): string {
  const result = spawnSync("openssl", ["passwd", "-apr1", "-stdin"], { input: `${password}\n`, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl passwd failed: ${result.stderr || result.error?.message}`);
  return `${username}:${result.stdout.trim()}\n`;
}

function nginxString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

interface Layout {
  dir: string;
  port: number;
  otherPort?: number;
  tls?: { certPath: string; keyPath: string };
  flink: URL;
  prefix: string;
  auth: GatewayAuth;
  redirectToOtherHost: boolean;
  htpasswdPath: string;
}

function proxyToFlink(layout: Layout): string {
  // proxy_pass with a URI replaces the matched prefix: /flink/orders/x → Flink's /x.
  return [
    `proxy_pass http://flink/;`,
    `proxy_set_header Host $http_host;`,
    `proxy_set_header X-Forwarded-For $remote_addr;`,
    `proxy_set_header X-Forwarded-Proto $scheme;`,
    `proxy_set_header X-Forwarded-Prefix ${nginxString(layout.prefix)};`,
  ].join("\n      ");
}

function mainLocations(layout: Layout): string {
  const { auth, prefix } = layout;
  const proxy = proxyToFlink(layout);
  if (layout.redirectToOtherHost) {
    return `location / {
      return 307 $scheme://${OTHER_HOST}:${layout.otherPort}$request_uri;
    }`;
  }
  switch (auth.kind) {
    case "none":
      return `location ${prefix} {
      ${proxy}
    }`;
    case "basic":
      return `location ${prefix} {
      auth_basic "Flink";
      auth_basic_user_file ${layout.htpasswdPath};
      ${proxy}
    }`;
    case "token":
      return `location ${prefix} {
      if ($http_authorization != ${nginxString(`Bearer ${auth.token}`)}) {
        add_header WWW-Authenticate 'Bearer realm="flink-gateway"' always;
        return 401;
      }
      ${proxy}
    }`;
    case "entra":
      return `location = /_token_check {
      internal;
      proxy_pass ${auth.tokenCheckUrl}/check;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }
    location ${prefix} {
      auth_request /_token_check;
      ${proxy}
    }`;
    case "loginRedirect":
      // As oauth2-proxy does for a browser: to its sign-in start, which shows the login page.
      return `location = /oauth2/start {
      default_type text/html;
      return 200 ${nginxString(LOGIN_PAGE)};
    }
    location / {
      return 302 $scheme://$http_host/oauth2/start?rd=$request_uri;
    }`;
    case "loginPage":
      return `location / {
      default_type text/html;
      return 200 ${nginxString(LOGIN_PAGE)};
    }`;
  }
}

function nginxConfig(layout: Layout): string {
  const { dir, tls } = layout;
  const listen = (host: string, port: number) => `listen ${host}:${port}${tls ? " ssl" : ""};`;
  const tlsLines = tls ? `ssl_certificate ${tls.certPath};\n    ssl_certificate_key ${tls.keyPath};` : "";
  const otherHost =
    layout.redirectToOtherHost && layout.otherPort
      ? `
  server {
    ${listen(OTHER_HOST, layout.otherPort)}
    ${tlsLines}
    access_log ${path.join(dir, "other-host.log")} other_host;
    location ${layout.prefix} {
      ${proxyToFlink(layout)}
    }
  }`
      : "";
  // Running as root (CI), workers would drop to "nobody" and could not read the temp dir.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  return `${user}worker_processes 1;
error_log ${path.join(dir, "error.log")} notice;
events { worker_connections 256; }
http {
  default_type application/octet-stream;
  access_log ${path.join(dir, "access.log")};
  client_body_temp_path ${path.join(dir, "client_body")};
  proxy_temp_path ${path.join(dir, "proxy")};
  fastcgi_temp_path ${path.join(dir, "fastcgi")};
  uwsgi_temp_path ${path.join(dir, "uwsgi")};
  scgi_temp_path ${path.join(dir, "scgi")};
  # Jar uploads: no size limit, streamed to Flink.
  client_max_body_size 0;
  proxy_request_buffering off;
  proxy_http_version 1.1;
  proxy_read_timeout 300s;
  log_format other_host escape=json '{"method":"$request_method","uri":"$request_uri","authorization":"$http_authorization"}';
  upstream flink { server ${layout.flink.host}; }
  server {
    ${listen("127.0.0.1", layout.port)}
    ${tlsLines}
    ${mainLocations(layout)}
  }${otherHost}
}
`;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function readOr(file: string, fallback = ""): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch {
    return fallback;
  }
}

class PortClash extends Error {}

/** Starts one nginx gateway with `auth` in front of options.flinkUrl; resolves once it accepts connections. */
export async function startGateway(options: GatewayOptions & { auth: GatewayAuth }): Promise<Gateway> {
  try {
    return await startGatewayOnce(options);
  } catch (err) {
    if (err instanceof PortClash) return startGatewayOnce(options);
    throw err;
  }
}

async function startGatewayOnce(options: GatewayOptions & { auth: GatewayAuth }): Promise<Gateway> {
  const binary = nginxBinary();
  const flink = new URL(options.flinkUrl);
  if (flink.protocol !== "http:") throw new Error(`flinkUrl: the gateway proxies plain http to Flink, got ${options.flinkUrl}`);
  installExitHooks();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "flink-gateway-"));
  liveDirs.add(dir);
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const errorLog = path.join(dir, "error.log");
  const logs = async () =>
    `--- nginx error.log ---\n${(await readOr(errorLog)).trimEnd()}\n--- nginx access.log ---\n${(await readOr(path.join(dir, "access.log"))).trimEnd()}`;
  const stop = () =>
    (stopped ??= (async () => {
      if (child) {
        child.kill("SIGQUIT"); // graceful: finish open requests
        const timer = setTimeout(() => child?.kill("SIGKILL"), 5000);
        await exited(child);
        clearTimeout(timer);
        live.delete(child);
      }
      await fs.rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    })());
  try {
    for (const sub of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) await fs.mkdir(path.join(dir, sub));
    const prefix = normalizePrefix(options.pathPrefix);
    const port = await freePortOn("127.0.0.1");
    const otherPort = options.redirectToOtherHost ? await freePortOn(OTHER_HOST) : undefined;
    let ca: Awaited<ReturnType<typeof createTestCa>> | undefined;
    let tls: Layout["tls"];
    if (options.https) {
      ca = await createTestCa(path.join(dir, "tls"), "Flink gateway test CA");
      const server = await issueCertificate(ca, path.join(dir, "tls"), { commonName: "127.0.0.1", usage: "server", altNames: LOOPBACK_ALT_NAMES });
      tls = { certPath: server.certPath, keyPath: server.keyPath };
    }
    const htpasswdPath = path.join(dir, "htpasswd");
    if (options.auth.kind === "basic") await fs.writeFile(htpasswdPath, htpasswdLine(options.auth.username, options.auth.password));
    const layout: Layout = { dir, port, otherPort, tls, flink, prefix, auth: options.auth, redirectToOtherHost: !!options.redirectToOtherHost, htpasswdPath };
    const confPath = path.join(dir, "nginx.conf");
    await fs.writeFile(confPath, nginxConfig(layout));

    child = spawn(binary, ["-p", dir, "-e", errorLog, "-c", confPath, "-g", `daemon off; pid ${path.join(dir, "nginx.pid")};`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    live.add(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const why = `${stderr}\n${await logs()}`;
        if (/Address already in use/.test(why)) throw new PortClash(why);
        throw new Error(`nginx exited (code ${child.exitCode}) before listening:\n${why}`);
      }
      const up = (await canConnect("127.0.0.1", port)) && (otherPort === undefined || (await canConnect(OTHER_HOST, otherPort)));
      if (up) break;
      if (Date.now() > deadline) throw new Error(`nginx not listening on 127.0.0.1:${port} after 20 s:\n${stderr}\n${await logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const scheme = options.https ? "https" : "http";
    const otherLog = path.join(dir, "other-host.log");
    return {
      url: `${scheme}://127.0.0.1:${port}${prefix === "/" ? "" : prefix.replace(/\/$/, "")}`,
      port,
      ...(ca ? { caCertPath: ca.certPath, caCertPem: ca.certPem } : {}),
      ...(otherPort !== undefined
        ? {
            otherHost: {
              url: `${scheme}://${OTHER_HOST}:${otherPort}`,
              requests: async () =>
                (await readOr(otherLog))
                  .split("\n")
                  .filter((line) => line.trim())
                  .map((line) => {
                    const entry = JSON.parse(line) as { method: string; uri: string; authorization: string };
                    return { method: entry.method, uri: entry.uri, authorization: entry.authorization || undefined };
                  }),
            },
          }
        : {}),
      dir,
      logs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export type CommonGatewayOptions = GatewayOptions;

/** No authentication (plain proxy): for https, path prefix and redirect tests. */
export function startOpenGateway(options: CommonGatewayOptions): Promise<Gateway> {
  return startGateway({ ...options, auth: { kind: "none" } });
}

/** auth_basic with an htpasswd (apr1) for one user; username/password default to fresh ones. */
export async function startBasicGateway(options: CommonGatewayOptions & { username?: string; password?: string }): Promise<BasicGateway> {
  const username = options.username ?? "flink-deployer";
  // A colon and a percent sign: the password must travel verbatim in the Basic header.
  const password = options.password ?? `pw:${randomBytes(9).toString("base64url")}%`;
  const gateway = await startGateway({ ...options, auth: { kind: "basic", username, password } });
  return { ...gateway, username, password };
}

/** A static bearer token compared by nginx; 401 with WWW-Authenticate: Bearer otherwise. */
export async function startTokenGateway(options: CommonGatewayOptions & { token?: string }): Promise<TokenGateway> {
  const token = options.token ?? randomBytes(24).toString("base64url");
  const gateway = await startGateway({ ...options, auth: { kind: "token", token } });
  return { ...gateway, token };
}

/**
 * auth_request to a token check of ours that verifies Entra ID access tokens (signature against
 * the tenant's JWKS, issuer, audience = the application ID URI, expiry, optional role).
 */
export async function startEntraGateway(
  options: CommonGatewayOptions & Omit<TokenCheckOptions, "audience"> & { audience?: string },
): Promise<EntraGateway> {
  const audience = options.audience ?? "api://flink-gateway";
  const tokenCheck = await startTokenCheck({ ...options, audience });
  try {
    const gateway = await startGateway({ ...options, auth: { kind: "entra", tokenCheckUrl: tokenCheck.url } });
    return {
      ...gateway,
      audience,
      scope: `${audience}/.default`,
      tokenCheck,
      stop: async () => {
        await gateway.stop();
        await tokenCheck.stop();
      },
    };
  } catch (err) {
    await tokenCheck.stop();
    throw err;
  }
}

/**
 * An OAuth2-proxy-like gateway that takes no credentials a pipeline has: "redirect" answers 302
 * to /oauth2/start (which serves an HTML sign-in page), "page" answers the HTML page with 200.
 */
export function startLoginGateway(options: CommonGatewayOptions & { style: "redirect" | "page" }): Promise<Gateway> {
  return startGateway({ ...options, auth: { kind: options.style === "redirect" ? "loginRedirect" : "loginPage" } });
}
