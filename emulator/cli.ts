import { parseFaultSpec, startEmulator, type EmulatorConfig, type FaultRule } from "./index";

const USAGE = `Usage: npm run emulator -- [options]

  --port <n>              HTTPS port on 127.0.0.1 (default 8443; 0 = any free port)
  --host <addr>           listen address (default 127.0.0.1)
  --state-dir <dir>       where ca.pem, keys and identities live (default <repo>/.emulator)
  --time-scale <x>        run the virtual clock x times faster (default 1)
  --stale-window-ms <n>   how long job records keep the previous result after a POST (default 2000)
  --operation-ms <n>      end every operation this long after its POST (default: when the action is submitted, NEW 12000)
  --action-ms <A>=<n>     duration of action A in IN_PROGRESS, e.g. NEW=12000 (repeatable)
  --page-size <n>         jobs per page before nextLink (default 50)
  --jar <dir>/<name>      add a jar to the emulated storage (repeatable)
  --jar-storage <url>     jars are the blobs of this path-style Blob endpoint (Azurite)
  --fault <spec>          inject a fault (repeatable), e.g.
                            route=runJob,kind=status,status=429,retryAfterSec=2,times=3
                            route=runJob,kind=dropAfter,action=NEW,times=1
                            route=runJob,kind=actionFail,action=STOP,jobOutput=boom,jobStatus=STOP-FAILED
                            route=token,kind=status,status=503,times=2
  --guess <name>=<value>  switch a GUESS behaviour (see emulator/README.md), e.g. missingJob=notFound
`;

function parseArgs(argv: string[]): EmulatorConfig {
  const cfg: EmulatorConfig = { port: 8443 };
  const faults: FaultRule[] = [];
  const jars: Array<{ jobJarDirectory: string; jarName: string }> = [];
  const durations: Record<string, number> = {};
  const guesses: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") && arg.startsWith("--") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = (): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`${flag}: '${raw}' is not a number`);
      return n;
    };
    switch (flag) {
      case "--port": cfg.port = num(); break;
      case "--host": cfg.host = value(); break;
      case "--state-dir": cfg.stateDir = value(); break;
      case "--time-scale": cfg.timeScale = num(); break;
      case "--stale-window-ms": cfg.staleWindowMs = num(); break;
      case "--operation-ms": cfg.operationDurationMs = num(); break;
      case "--page-size": cfg.pageSize = num(); break;
      case "--action-ms": {
        const [a, n] = value().split("=");
        if (!a || n === undefined || !Number.isFinite(Number(n))) throw new Error("--action-ms takes ACTION=ms");
        durations[a.toUpperCase()] = Number(n);
        break;
      }
      case "--jar": {
        const v = value();
        const slash = v.lastIndexOf("/");
        if (slash <= 0 || slash === v.length - 1) throw new Error(`--jar takes <directory>/<jar name>, got '${v}'`);
        jars.push({ jobJarDirectory: v.slice(0, slash), jarName: v.slice(slash + 1) });
        break;
      }
      case "--jar-storage": cfg.jarStorage = { blobEndpoint: value() }; break;
      case "--fault": faults.push(parseFaultSpec(value())); break;
      case "--guess": {
        const [k, v] = value().split("=");
        if (!k || v === undefined) throw new Error("--guess takes name=value");
        guesses[k] = v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v;
        break;
      }
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  if (faults.length) cfg.faults = faults;
  if (jars.length) cfg.jars = jars;
  if (Object.keys(durations).length) cfg.actionDurationMs = durations;
  if (Object.keys(guesses).length) cfg.guesses = guesses as EmulatorConfig["guesses"];
  return cfg;
}

async function main(): Promise<void> {
  let cfg: EmulatorConfig;
  try {
    cfg = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  let e: Awaited<ReturnType<typeof startEmulator>>;
  try {
    e = await startEmulator(cfg);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${cfg.host ?? "127.0.0.1"}:${cfg.port}`;
    const reason =
      code === "EADDRINUSE"
        ? `port ${where} is already in use (another emulator?): stop it, or choose another port with --port <n> (0 = any free port)`
        : code === "EACCES"
          ? `not allowed to listen on ${where}: choose a port above 1023 with --port <n>`
          : (error as Error).message;
    process.stderr.write(`npm run emulator: ${reason}\n`);
    process.exit(1);
  }
  const lines = [
    `Flink jobs emulator (HDInsight on AKS ARM job API, Entra ID, Azure DevOps OIDC, managed identity)`,
    `listening on ${e.url}`,
    ``,
    `Trust its certificate:`,
    `  export NODE_EXTRA_CA_CERTS=${e.caCertPath}`,
    ``,
    `Azure Resource Manager service connection:`,
    `  Environment URL (ARM, ENDPOINT_URL)  ${e.armUrl}`,
    `  Authority host (Entra ID)            ${e.authorityHost}`,
    `  Tenant ID                            ${e.tenantId}`,
    `  Subscription ID                      ${e.subscriptionId}`,
    `  Resource group / pool / cluster      ${e.resourceGroup} / ${e.clusterPool} / ${e.cluster} (${e.location})`,
    `  Service principal (secret)           client id ${e.servicePrincipal.clientId}`,
    `                                       secret    ${e.servicePrincipal.clientSecret}`,
    `  Service principal (certificate)      client id ${e.servicePrincipal.clientId}`,
    `                                       PEM       ${e.servicePrincipal.certificatePath}`,
    `  Workload identity federation         client id ${e.workloadIdentity.clientId}`,
    `                                       service connection id ${e.workloadIdentity.serviceConnectionId}`,
    `                                       SYSTEM_OIDCREQUESTURI ${e.workloadIdentity.oidcRequestUri}`,
    `                                       System.AccessToken    ${e.workloadIdentity.systemAccessToken}`,
    `  Managed identity                     client id ${e.managedIdentity.clientId}`,
    ...Object.entries(e.managedIdentity.env).map(([k, v]) => `                                       ${k}=${v}`),
    ``,
    `Known jar: ${e.knownJar.jobJarDirectory}/${e.knownJar.jarName} (entry class ${e.knownJar.entryClass})`,
    ``,
    `Run a pipeline against it (it creates the clusters and jars the pipeline names; jobs stay between runs):`,
    `  npm run pipeline -- <your-pipeline.yml> --emulator-url ${e.url} --ca-file ${e.caCertPath}`,
    ``,
    `Control API: ${e.url}/_emulator/info, /_emulator/log, /_emulator/faults, /_emulator/jars, /_emulator/jobs, /_emulator/clock/advance`,
    `Ctrl+C to stop.`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${sig}: stopping emulator\n`);
    e.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
