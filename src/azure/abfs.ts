import { InputError } from "../errors";

/**
 * An ADLS Gen2 directory as Flink (Hadoop's ABFS driver) names it,
 * abfs[s]://<container>@<account>.dfs.<suffix>/<path>, and the Blob endpoint that writes it.
 * Blob APIs work on hierarchical-namespace accounts (multi-protocol access), and the Blob host is
 * the dfs host with `dfs` replaced by `blob` in every Azure cloud (the SDK's own
 * ToBlobEndpointHostMappings).
 */
export interface JarDirectory {
  account: string;
  container: string;
  /** The dfs host as given (lower case), e.g. acct.dfs.core.windows.net. */
  dfsHost: string;
  /** https://<account>.blob.<suffix> */
  blobServiceUrl: string;
  /** The path inside the container, without leading or trailing slashes ('' = the root). Kept
   * raw: Hadoop paths are unescaped, so '%20' is a literal '%20'. */
  directory: string;
  /** abfss://<container>@<dfsHost>[/<directory>] (always TLS, whatever the scheme given). */
  uri: string;
}

/** Cloud suffixes whose Storage has a dfs endpoint (the storage SDK's dfs↔blob host table). */
const SUFFIXES = ["core.windows.net", "core.chinacloudapi.cn", "core.usgovcloudapi.net", "core.cloudapi.de", "core.microsoft.scloud", "core.eaglex.ic.gov"];
const HOST = new RegExp(
  `^([a-z0-9]{3,24})\\.(?:(dfs|blob)\\.(${SUFFIXES.map((s) => s.replace(/\./g, "\\.")).join("|")})|(z\\d{1,2})\\.(dfs|blob)\\.storage\\.azure\\.net)$`,
);
const SHAPE = /^(abfss?):\/\/([^@/?#]*)@([^/?#]*)(\/[^?#]*)?$/i;
const EXAMPLE = "abfss://<container>@<account>.dfs.core.windows.net/<directory>";

export function parseJarDirectory(value: string, input = "jobJarDirectory"): JarDirectory {
  const raw = value.trim();
  const bad = (problem: string): InputError => new InputError(input, `${problem} (got '${raw}'; expected ${EXAMPLE})`);
  if (!raw) throw bad("an abfs[s]:// directory is required");
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) throw bad("control characters and backslashes are not allowed");
  const m = SHAPE.exec(raw);
  if (!m) {
    if (/^https?:\/\//i.test(raw)) throw bad("give the directory as Flink reads it, an abfs:// or abfss:// URI, not an https:// URL");
    if (/[?#]/.test(raw)) throw bad("'?' and '#' are not allowed in the directory");
    throw bad("not an abfs[s]://<container>@<account>.dfs.<cloud suffix>/<directory> URI");
  }
  const container = m[2]!;
  const host = m[3]!.toLowerCase();
  const rawPath = m[4] ?? "";
  if (!/^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(container))
    throw bad(`the container (file system) '${container}' must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit`);
  if (host.includes(":")) throw bad("a port is not allowed in the account host");
  if (host.includes(".privatelink.")) throw bad("use the account's public name (<account>.dfs.core.windows.net): a private endpoint resolves it through DNS");
  const h = HOST.exec(host);
  if (!h) {
    if (/^[a-z0-9]{3,24}$/.test(host)) throw bad(`the host '${host}' has no endpoint suffix: write the full name, e.g. ${host}.dfs.core.windows.net`);
    throw bad(`the host '${host}' is not a storage account endpoint (<account>.dfs.<cloud suffix>, 3-24 lower-case letters and digits for the account)`);
  }
  const account = h[1]!;
  const blobHost = h[3] ? `${account}.blob.${h[3]}` : `${account}.${h[4]!}.blob.storage.azure.net`;
  const dfsHost = h[3] ? `${account}.dfs.${h[3]}` : `${account}.${h[4]!}.dfs.storage.azure.net`;
  const segments = rawPath.split("/").filter((s, i, all) => !(s === "" && (i === 0 || i === all.length - 1)));
  for (const s of segments) {
    if (s === "") throw bad("empty path segments ('//') are not allowed");
    if (s === "." || s === "..") throw bad("'.' and '..' path segments are not allowed");
  }
  const directory = segments.join("/");
  if (directory.length > 900) throw bad("the directory path is too long for a blob name");
  return {
    account,
    container,
    dfsHost,
    blobServiceUrl: `https://${blobHost}`,
    directory,
    uri: `abfss://${container}@${dfsHost}${directory ? `/${directory}` : ""}`,
  };
}

/** A jar's file name as a blob name segment: no path, nothing Hadoop or the Blob API would read differently. */
export function checkJarName(name: string, input = "jarFile"): string {
  if (!name || name === "." || name === ".." || /[/\\\u0000-\u001f\u007f]/.test(name)) throw new InputError(input, `'${name}' is not usable as a jar file name`);
  return name;
}
