/**
 * npm run pipeline -- path.yml [options]: runs an Azure Pipelines YAML file through the real bundled
 * tasks, against the embedded emulator (default) or a real ARM endpoint.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../emulator/index";
import { repoRoot } from "./agent-process";
import { armConnection, emulatorConnection, flinkRestConnection, type RunnerConnection } from "./connection";
import { RunningEmulator } from "./running-emulator";
import { RunLog } from "./log";
import { PipelineError, type PipelinePlan, planPipelineFile } from "./pipeline";
import { namedResources, provision } from "./provision";
import { isFlinkRestStep, type PipelineRunResult, runPipeline, type TaskExecutor } from "./runner";

export const USAGE = `Usage: npm run pipeline -- <pipeline.yml> [options]

Runs the pipeline's steps that use this extension's tasks through the bundled tasks
(dist/tasks, from npm run build), the way the agent does. Other steps are listed as skipped.
Every azureSubscription name maps to one service connection:

  --emulator                 the embedded emulator on an ephemeral port (default)
  --time-scale <n>           the emulator's clock runs n times faster (default 10)
  --emulator-url <url>       an emulator started with npm run emulator (its jobs outlive the run);
                             --ca-file names its ca.pem (default .emulator/ca.pem)

  --arm-url <url>            a real Resource Manager endpoint, e.g. https://management.azure.com
  --tenant-id <id>           the service principal's tenant
  --client-id <id>           the service principal's application (client) id
  --client-secret-env <VAR>  name of the environment variable that holds its secret
  --subscription-id <id>     the subscription
  --authority-host <url>     Entra ID authority (default https://login.microsoftonline.com/)
  --ca-file <pem>            extra CA certificates for the task processes (a relative path is
                             taken from the current folder)

  --flink-url <url>          the REST URL of an Apache Flink cluster (npm run flink -- start prints
                             one): every flinkConnection of a target: flinkRest step maps to an
                             ApacheFlink connection to it, without authentication
  --working-directory <dir>  System.DefaultWorkingDirectory, where jarFile patterns resolve
                             (default: a temporary folder per step)

  --var <name>=<value>       set a pipeline variable (repeatable; wins over the YAML's)
  --param <name>=<value>     set a runtime parameter of the pipeline's parameters: (repeatable)
  --debug                    same as --var System.Debug=true
  --json <file>              also write the step results as JSON
  --summary-dir <dir>        where each step's run summary (Markdown) is saved
                             (default .pipeline-runs/<date-time>/ in the repository)

Exit code: 0 when no step failed, 1 when a step failed, 2 for a usage or pipeline file error.
`;

export interface CliOptions {
  file: string;
  timeScale: number;
  variables: Record<string, string>;
  /** --summary-dir: where the steps' run summaries go (default: a new folder under .pipeline-runs/). */
  summaryDir?: string;
  /** --emulator-url: a running emulator (npm run emulator), with its CA file. */
  emulatorUrl?: { url: string; caFile: string };
  /** --param: values for the pipeline's own parameters:. */
  parameters?: Record<string, string>;
  json: string | undefined;
  /** --flink-url: the REST URL every flinkConnection maps to. */
  flinkUrl?: string;
  /** --working-directory: System.DefaultWorkingDirectory of every step. */
  workingDirectory?: string;
  arm:
    | { armUrl: string; tenantId: string; clientId: string; clientSecretEnv: string; subscriptionId: string; authorityHost?: string; caFile?: string }
    | undefined;
}

export class UsageError extends Error {}

export function parseCliArgs(argv: string[]): CliOptions {
  const variables: Record<string, string> = {};
  const arm: Record<string, string> = {};
  let file: string | undefined;
  let timeScale = 10;
  let json: string | undefined;
  let emulatorChosen = false;
  let parameters: Record<string, string> | undefined;
  let emulatorUrl: string | undefined;
  let summaryDir: string | undefined;
  const extra: { flinkUrl?: string; workingDirectory?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--help":
      case "-h":
        throw new UsageError("");
      case "--emulator":
        emulatorChosen = true;
        break;
      case "--time-scale": {
        const raw = value();
        timeScale = Number(raw);
        if (!Number.isFinite(timeScale) || timeScale <= 0) throw new UsageError(`--time-scale takes a positive number, got '${raw}'`);
        break;
      }
      case "--var": {
        const v = value();
        const at = v.indexOf("=");
        if (at <= 0) throw new UsageError(`--var takes name=value, got '${v}'`);
        variables[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case "--param": {
        const v = value();
        const at = v.indexOf("=");
        if (at <= 0) throw new UsageError(`--param takes name=value, got '${v}'`);
        (parameters ??= {})[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case "--debug":
        variables["System.Debug"] = "true";
        break;
      case "--json":
        json = value();
        break;
      case "--summary-dir":
        summaryDir = path.resolve(value());
        break;
      case "--emulator-url":
        emulatorUrl = value();
        break;
      case "--flink-url": {
        const raw = value();
        if (!/^https?:\/\/[^/]/.test(raw)) throw new UsageError(`--flink-url takes the cluster's http(s) REST URL, got '${raw}'`);
        extra.flinkUrl = raw;
        break;
      }
      case "--working-directory":
        // The tasks run in other folders: a relative path would point nowhere there.
        extra.workingDirectory = path.resolve(value());
        break;
      case "--arm-url":
      case "--tenant-id":
      case "--client-id":
      case "--client-secret-env":
      case "--subscription-id":
      case "--authority-host":
      case "--ca-file":
        arm[flag.slice(2)] = value();
        break;
      case "--client-secret":
        throw new UsageError("a secret on the command line ends up in shell history and process lists: put it in an environment variable and pass --client-secret-env VAR");
      default:
        if (flag.startsWith("-")) throw new UsageError(`unknown option ${flag}`);
        if (file !== undefined) throw new UsageError(`one pipeline file at a time (got '${file}' and '${arg}')`);
        file = arg;
    }
  }
  if (file === undefined) throw new UsageError("name the pipeline file");
  let armOptions: CliOptions["arm"];
  if (emulatorUrl !== undefined) {
    const others = Object.keys(arm).filter((k) => k !== "ca-file");
    if (emulatorChosen || others.length) throw new UsageError(`--emulator-url and ${emulatorChosen ? "--emulator" : `--${others[0]}`} are alternatives: choose one`);
    if (!/^https:\/\//.test(emulatorUrl)) throw new UsageError(`--emulator-url takes the https URL npm run emulator prints, got '${emulatorUrl}'`);
    const caFile = path.resolve(arm["ca-file"] ?? path.join(repoRoot, ".emulator", "ca.pem"));
    return { file, timeScale, variables, json, arm: undefined, emulatorUrl: { url: emulatorUrl, caFile }, ...extra, ...(parameters ? { parameters } : {}), ...(summaryDir ? { summaryDir } : {}) };
  }
  if (Object.keys(arm).length > 0) {
    if (emulatorChosen) throw new UsageError("--emulator and --arm-url … are alternatives: choose one");
    const missing = ["arm-url", "tenant-id", "client-id", "client-secret-env", "subscription-id"].filter((k) => !arm[k]);
    if (missing.length) throw new UsageError(`a real ARM endpoint also needs ${missing.map((m) => `--${m}`).join(", ")}`);
    armOptions = {
      armUrl: arm["arm-url"]!,
      tenantId: arm["tenant-id"]!,
      clientId: arm["client-id"]!,
      clientSecretEnv: arm["client-secret-env"]!,
      subscriptionId: arm["subscription-id"]!,
      ...(arm["authority-host"] ? { authorityHost: arm["authority-host"] } : {}),
      // The tasks run in a temporary folder: a relative path would point nowhere there.
      ...(arm["ca-file"] ? { caFile: path.resolve(arm["ca-file"]) } : {}),
    };
  }
  return { file, timeScale, variables, json, arm: armOptions, ...extra, ...(parameters ? { parameters } : {}), ...(summaryDir ? { summaryDir } : {}) };
}

export interface PipelineFileRun {
  exitCode: number;
  run: PipelineRunResult | undefined;
}

export interface RunFileOptions {
  log?: RunLog;
  /** Use this running emulator instead of starting one (it is left running). */
  emulator?: Emulator;
  executor?: TaskExecutor;
  env?: NodeJS.ProcessEnv;
}

/** Plans and runs one file; never throws for a pipeline's own failures, only reports them. */
export async function runPipelineFile(options: CliOptions, runOptions: RunFileOptions = {}): Promise<PipelineFileRun> {
  const log = runOptions.log ?? new RunLog();
  let plan;
  try {
    plan = planPipelineFile(options.file, options.parameters ? { parameters: options.parameters } : {});
  } catch (error) {
    const reason = error instanceof PipelineError ? error.message : (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    log.line(`ERROR: ${options.file}: ${reason}`);
    return { exitCode: 2, run: undefined };
  }
  let emulator = runOptions.emulator;
  let ownEmulator: Emulator | undefined;
  let connection: RunnerConnection;
  try {
    const flink = options.flinkUrl ? flinkRestConnection(options.flinkUrl) : undefined;
    if (options.arm) {
      const secret = (runOptions.env ?? process.env)[options.arm.clientSecretEnv];
      if (!secret) throw new UsageError(`the environment variable ${options.arm.clientSecretEnv} (--client-secret-env) is empty or not set`);
      connection = { ...armConnection({ ...options.arm, clientSecret: secret }), ...(flink ? { flink } : {}) };
    } else if (options.emulatorUrl) {
      const running = await RunningEmulator.connect(options.emulatorUrl.url, options.emulatorUrl.caFile);
      connection = { ...emulatorConnection(running.endpoint, `the emulator at ${running.endpoint.url}`), ...(flink ? { flink } : {}) };
      const lines = provision(running, namedResources(plan, options.variables)).map((l) => l.replace("The embedded emulator", "The emulator"));
      for (const refused of await running.settled()) lines.push(`  not created: ${refused}`);
      for (const line of lines) log.line(line);
    } else if (flinkOnly(plan) && !runOptions.emulator) {
      // Nothing here talks to Azure: no emulator to start, nor to announce.
      connection = { env: {}, secrets: [], description: "none for Azure (every step runs on a Flink cluster)", ...(flink ? { flink } : {}) };
    } else {
      if (!emulator) {
        ownEmulator = await startEmulator({ port: 0, timeScale: options.timeScale });
        emulator = ownEmulator;
      }
      connection = { ...emulatorConnection(emulator), ...(flink ? { flink } : {}) };
      for (const line of provision(emulator, namedResources(plan, options.variables))) log.line(line);
    }
  } catch (error) {
    log.line(`ERROR: ${(error as Error).message}`);
    await ownEmulator?.close();
    return { exitCode: 2, run: undefined };
  }
  // Flink steps with a jarFile need a working directory that outlives each step (the runner may
  // place the sample job there): one for the whole run, removed at its end, unless one was given.
  const ownWorkingDirectory =
    !options.workingDirectory && connection.flink && plan.steps.some((s) => s.task && s.inputs["jarFile"] && isFlinkRestStep(s.inputs))
      ? fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-work-"))
      : undefined;
  const workingDirectory = options.workingDirectory ?? ownWorkingDirectory;
  if (ownWorkingDirectory) log.line(`The Flink steps' jarFile patterns resolve in ${ownWorkingDirectory} (removed at the end; --working-directory <dir> names your checkout instead)`);
  try {
    const run = await runPipeline(plan, {
      connection,
      variables: options.variables,
      log,
      source: options.file,
      summaryDir: options.summaryDir ?? path.join(repoRoot, ".pipeline-runs", new Date().toISOString().replace(/[:.]/g, "-")),
      ...(runOptions.executor ? { executor: runOptions.executor } : {}),
      ...(workingDirectory ? { workingDirectory } : {}),
    });
    if (options.json) {
      fs.mkdirSync(path.dirname(path.resolve(options.json)), { recursive: true });
      fs.writeFileSync(options.json, `${JSON.stringify({ file: options.file, connection: connection.description, ...run }, null, 2)}\n`);
    }
    return { exitCode: run.result === "Failed" ? 1 : 0, run };
  } finally {
    await ownEmulator?.close();
    if (ownWorkingDirectory) fs.rmSync(ownWorkingDirectory, { recursive: true, force: true });
  }
}

/** Every task step runs on a Flink cluster (target flinkRest, or a flinkConnection alone). */
function flinkOnly(plan: PipelinePlan): boolean {
  const tasks = plan.steps.filter((s) => s.task);
  return tasks.length > 0 && tasks.every((s) => isFlinkRestStep(s.inputs));
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) process.stderr.write(`${error.message}\n\n`);
    process.stderr.write(USAGE);
    return error.message ? 2 : 0;
  }
  return (await runPipelineFile(options)).exitCode;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
