import https from "node:https";

/**
 * The emulated storage account: which jars a job can download. By default a set of names the
 * tests add; with a Blob endpoint (Azurite), the blobs there, read as the cluster would.
 */
export class JarStorage {
  private readonly jars = new Set<string>();
  private blob: BlobJarSource | undefined;
  /** Blob mode: what the last look at each jar found. */
  private readonly found = new Map<string, boolean>();

  /** From now on a jar exists when its blob does (see BlobJarSource); added names no longer count. */
  useBlobStorage(source: BlobJarSource): void {
    this.blob = source;
  }

  get blobMode(): boolean {
    return this.blob !== undefined;
  }

  add(jobJarDirectory: string, jarName: string): void {
    if (!jobJarDirectory || !jarName) throw new Error("addJar needs a jobJarDirectory and a jarName");
    this.jars.add(key(jobJarDirectory, jarName));
  }

  has(jobJarDirectory: string | undefined, jarName: string | undefined): boolean {
    if (!jobJarDirectory || !jarName) return false;
    if (this.blob) return this.found.get(key(jobJarDirectory, jarName)) === true;
    return this.jars.has(key(jobJarDirectory, jarName));
  }

  /**
   * Blob mode: looks the jar up now, so a launch decided later (has(), synchronous) sees it.
   * Called before each runJob: the jar is read when the action is posted (a pipeline uploads it
   * before it posts the action).
   */
  async refresh(jobJarDirectory: string | undefined, jarName: string | undefined): Promise<void> {
    if (!this.blob || !jobJarDirectory || !jarName) return;
    this.found.set(key(jobJarDirectory, jarName), await this.blob.exists(jobJarDirectory, jarName));
  }

  list(): string[] {
    return this.blob ? [...this.found].filter(([, present]) => present).map(([k]) => k) : [...this.jars];
  }
}

function key(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/**
 * Jars in a real Blob service (Azurite, path style: https://127.0.0.1:<port>/<account>). An
 * abfs[s]://<container>@<account>.dfs.<suffix>/<dir> directory maps to <endpoint>/<container>/<dir>
 * when <account> is the endpoint's account; any other account has no jars (the cluster could not
 * download from it). The cluster reads with its own (managed) identity: a storage token the
 * emulated Entra issues.
 */
export class BlobJarSource {
  private readonly account: string;

  constructor(
    private readonly blobEndpoint: string,
    private readonly ca: string,
    private readonly token: () => string,
  ) {
    const m = /^https:\/\/[^/]+\/([a-z0-9]{3,24})\/?$/.exec(blobEndpoint);
    if (!m) throw new Error(`jarStorage.blobEndpoint must be a path-style https://<host>:<port>/<account> Blob endpoint, got '${blobEndpoint}'`);
    this.account = m[1]!;
  }

  async exists(jobJarDirectory: string, jarName: string): Promise<boolean> {
    const m = /^abfss?:\/\/([^@/]+)@([a-z0-9]+)\.[^/]+(\/.*)?$/i.exec(jobJarDirectory.trim());
    if (!m || m[2]!.toLowerCase() !== this.account) return false;
    const dir = (m[3] ?? "").split("/").filter(Boolean);
    const segments = [m[1]!, ...dir, jarName].map(encodeURIComponent).join("/");
    const url = `${this.blobEndpoint.replace(/\/+$/, "")}/${segments}`;
    const status = await new Promise<number>((resolve) => {
      const req = https.request(url, { method: "HEAD", ca: this.ca, agent: false, headers: { authorization: `Bearer ${this.token()}`, "x-ms-version": "2025-11-05" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // Storage unreachable: the cluster cannot download the jar either.
      req.on("error", () => resolve(0));
      req.setTimeout(10000, () => req.destroy());
      req.end();
    });
    return status === 200;
  }
}
