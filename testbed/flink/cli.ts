// npm run flink -- <command>
//   start [--version <v>] [--slots <n>] [--checkpoint-interval-ms <ms>] [--ha]
//       installs if needed, starts a session cluster, prints "Flink REST: <url>", runs until Ctrl-C
//   install [--version <v> | --all]   installs Flink (default: the CI versions)
//   job-jar [--version <v>]           builds and prints the test job jars
import { startFlinkCluster } from "./cluster";
import { installFlink } from "./install";
import { buildTestJobJars } from "./job";
import { CI_FLINK_VERSIONS, SUPPORTED_FLINK_VERSIONS } from "./versions";

const USAGE = `Usage: npm run flink -- start [--version <v>] [--slots <n>] [--checkpoint-interval-ms <ms>] [--ha]
       npm run flink -- install [--version <v> | --all]
       npm run flink -- job-jar [--version <v>]
Versions: ${SUPPORTED_FLINK_VERSIONS.join(", ")} (CI: ${CI_FLINK_VERSIONS.join(", ")}; start and job-jar default to ${CI_FLINK_VERSIONS[0]})`;

function parse(args: string[]): { command: string; flags: Map<string, string> } {
  const [command = "", ...rest] = args;
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === "--all" || flag === "--ha") flags.set(flag.slice(2), "true");
    else if (["--version", "--slots", "--checkpoint-interval-ms"].includes(flag) && rest[i + 1] !== undefined) flags.set(flag.slice(2), rest[++i]!);
    else throw new Error(`Unknown or incomplete argument: ${flag}\n${USAGE}`);
  }
  return { command, flags };
}

function positiveInteger(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

const progress = (line: string) => process.stderr.write(line + "\n");

async function main(): Promise<void> {
  const { command, flags } = parse(process.argv.slice(2));
  // The LTS line by default, as npm run demo -- --target flink and the README say.
  const version = flags.get("version") ?? CI_FLINK_VERSIONS[0]!;
  switch (command) {
    case "install": {
      const versions = flags.has("all") ? SUPPORTED_FLINK_VERSIONS : flags.has("version") ? [version] : CI_FLINK_VERSIONS;
      for (const v of versions) process.stdout.write(`Flink ${v}: ${await installFlink(v, { log: progress })}\n`);
      return;
    }
    case "job-jar": {
      const jars = await buildTestJobJars(version, { log: progress });
      process.stdout.write(`Flink ${version} test job jars (entry class ${jars.entryClass}):\n`);
      process.stdout.write(`  v1 (Main-Class):            ${jars.v1}\n  v2 (Main-Class):            ${jars.v2}\n`);
      process.stdout.write(`  v1 without Main-Class:      ${jars.v1NoMainClass}\n`);
      return;
    }
    case "start": {
      const slots = positiveInteger(flags, "slots");
      const checkpointIntervalMs = positiveInteger(flags, "checkpoint-interval-ms");
      const cluster = await startFlinkCluster({ version, slots, checkpointIntervalMs, ha: flags.has("ha"), log: progress });
      process.stdout.write(`Flink REST: ${cluster.restUrl}\n`);
      if (cluster.highAvailability) progress(`Flink ${version}: JobManager HA through ZooKeeper at ${cluster.highAvailability.zooKeeper.connectString}`);
      progress(`Flink ${version}: savepoints in ${cluster.savepointDir}, logs in ${cluster.logDir}. Ctrl-C stops the cluster.`);
      await new Promise<void>((resolve) => {
        const onSignal = () => {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
          resolve();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
      progress(`Flink ${version}: stopping`);
      await cluster.stop();
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
