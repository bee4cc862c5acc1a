/**
 * npm run pipeline -- path.yml [options]: runs an Azure Pipelines YAML file through the real bundled
 * tasks, against the embedded emulator (default) or a real ARM endpoint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type Emulator, startEmulator } from "../emulator/index";
import { armConnection, emulatorConnection, type RunnerConnection } from "./connection";
import { RunLog } from "./log";
import { PipelineError, planPipelineFile } from "./pipeline";
import { namedResources, provision } from "./provision";
import { type PipelineRunResult, runPipeline, type TaskExecutor } from "./runner";

export const USAGE = `Usage: npm run pipeline -- <pipeline.yml> [options]

Runs the pipeline's steps that use this extension's tasks through the bundled tasks
(dist/tasks, from npm run build), the way the agent does. Other steps are listed as skipped.
Every azureSubscription name maps to one service connection:

  --emulator                 the embedded emulator on an ephemeral port (default)
  --time-scale <n>           the emulator's clock runs n times faster (default 10)

  --arm-url <url>            a real Resource Manager endpoint, e.g. https://management.azure.com
  --tenant-id <id>           the service principal's tenant
  --client-id <id>           the service principal's application (client) id
  --client-secret-env <VAR>  name of the environment variable that holds its secret
  --subscription-id <id>     the subscription
  --authority-host <url>     Entra ID authority (default https://login.microsoftonline.com/)
  --ca-file <pem>            extra CA certificates for the task processes

  --var <name>=<value>       set a pipeline variable (repeatable; wins over the YAML's)
  --param <name>=<value>     set a runtime parameter of the pipeline's parameters: (repeatable)
  --debug                    same as --var System.Debug=true
  --json <file>              also write the step results as JSON

Exit code: 0 when no step failed, 1 when a step failed, 2 for a usage or pipeline file error.
`;

export interface CliOptions {
  file: string;
  timeScale: number;
  variables: Record<string, string>;
  /** --param: values for the pipeline's own parameters:. */
  parameters?: Record<string, string>;
  json: string | undefined;
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
      ...(arm["ca-file"] ? { caFile: arm["ca-file"] } : {}),
    };
  }
  return { file, timeScale, variables, json, arm: armOptions, ...(parameters ? { parameters } : {}) };
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
    if (options.arm) {
      const secret = (runOptions.env ?? process.env)[options.arm.clientSecretEnv];
      if (!secret) throw new UsageError(`the environment variable ${options.arm.clientSecretEnv} (--client-secret-env) is empty or not set`);
      connection = armConnection({ ...options.arm, clientSecret: secret });
    } else {
      if (!emulator) {
        ownEmulator = await startEmulator({ port: 0, timeScale: options.timeScale });
        emulator = ownEmulator;
      }
      connection = emulatorConnection(emulator);
      for (const line of provision(emulator, namedResources(plan, options.variables))) log.line(line);
    }
  } catch (error) {
    log.line(`ERROR: ${(error as Error).message}`);
    await ownEmulator?.close();
    return { exitCode: 2, run: undefined };
  }
  try {
    const run = await runPipeline(plan, {
      connection,
      variables: options.variables,
      log,
      source: options.file,
      ...(runOptions.executor ? { executor: runOptions.executor } : {}),
    });
    if (options.json) {
      fs.mkdirSync(path.dirname(path.resolve(options.json)), { recursive: true });
      fs.writeFileSync(options.json, `${JSON.stringify({ file: options.file, connection: connection.description, ...run }, null, 2)}\n`);
    }
    return { exitCode: run.result === "Failed" ? 1 : 0, run };
  } finally {
    await ownEmulator?.close();
  }
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
