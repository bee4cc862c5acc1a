/** task.json files, the extension manifest and the packaged .vsix: the rules tfx and the agent do not check. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv-draft-04";
import { ClientSecretCredential } from "@azure/identity";
import axios from "axios";
import { type Emulator, startEmulator } from "../emulator/index";
import { ARM_PICKLISTS, headingAnchor, renderManifest, TASKS } from "../scripts/task-manifests";
import { InputError } from "../src/errors";
import { jobName } from "../src/validation/rules";
import { BACKEND_FILES, ENTRY_FILE, HANDLER_FILE } from "../scripts/build";
import { packageExtension, shippedImages } from "../scripts/package";
import { parseVersion, readVersionLock } from "../scripts/versions";
import { repoRoot } from "./harness/agent";
import { zipEntryNames } from "./harness/zip";

type Input = {
  name: string;
  type: string;
  label: string;
  helpMarkDown?: string;
  groupName?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  aliases?: string[];
  validation?: { expression: string; message: string };
};
type Manifest = {
  id: string;
  name: string;
  friendlyName: string;
  instanceNameFormat: string;
  version: { Major: number; Minor: number; Patch: number };
  groups: { name: string }[];
  inputs: Input[];
  outputVariables: { name: string }[];
  restrictions: { settableVariables: { allowed: string[] } };
  execution: Record<string, { target: string }>;
  dataSourceBindings: { target: string; endpointUrl: string; resultSelector: string; resultTemplate: string }[];
  helpUrl: string;
  helpMarkDown: string;
};

const manifests: [string, Manifest][] = TASKS.map((t) => [t.folder, JSON.parse(fs.readFileSync(path.join(repoRoot, "tasks", t.folder, "task.json"), "utf8")) as Manifest]);

/** The contract's inputs (../shared/reference/task-contract.md), task by task. */
const COMMON = ["target", "flinkConnection", "entraIdConnection", "entraIdScope", "azureSubscription", "resourceGroupName", "clusterPoolName", "clusterName", "jobName", "apiVersion", "waitForCompletion", "waitTimeoutInMinutes", "pollingIntervalInSeconds"];
const OWN: Record<string, string[]> = {
  FlinkJobSubmit: ["jobJarDirectory", "jarName", "jarFile", "entryClass", "args", "parallelism", "savepointDirectory", "savepointName", "allowNonRestoredState", "flinkConfiguration"],
  FlinkJobStop: ["savepointFormat"],
  FlinkJobStart: ["startMode", "savepointName", "args", "jarFile", "allowNonRestoredState", "restoreMode"],
  FlinkJobUpdate: ["upgradeMode", "args", "savepointName", "jarFile", "entryClass", "allowNonRestoredState", "savepointFormat", "restoreMode"],
  FlinkSavepoint: ["operation", "savepointFormat", "savepointName", "keepLast", "maxAgeDays"],
  FlinkJobCancel: [],
  FlinkJobDelete: [],
  FlinkJobStatus: ["waitForStatus"],
  FlinkJobDeploy: ["jarFile", "jobJarDirectory", "entryClass", "args", "parallelism", "savepointDirectory", "flinkConfiguration", "upgradeMode", "healthCheckSeconds", "rollbackOnFailure", "savepointFormat", "restoreMode", "retainSavepoints", "dryRun"],
};
const RECORD_OUTPUTS = ["jobName", "runId", "jobId", "jobStatus", "actionResult", "jobOutput", "lastSavepoint", "jarId"];
const OUTPUTS: Record<string, string[]> = {
  FlinkJobSubmit: RECORD_OUTPUTS,
  FlinkJobStop: [...RECORD_OUTPUTS, "savepointPath"],
  FlinkJobStart: RECORD_OUTPUTS,
  FlinkJobUpdate: RECORD_OUTPUTS,
  FlinkSavepoint: [...RECORD_OUTPUTS, "savepointPath", "savepoints", "savepointCount"],
  FlinkJobCancel: RECORD_OUTPUTS,
  FlinkJobDelete: RECORD_OUTPUTS,
  FlinkJobStatus: [...RECORD_OUTPUTS, "jobs", "jobCount"],
  FlinkJobDeploy: [...RECORD_OUTPUTS, "deployAction", "jarSha256", "jarPath", "previousSavepoint"],
};

describe("task manifests", () => {
  it("every task folder of the contract exists, and the committed task.json files match their source", () => {
    assert.deepEqual(manifests.map(([f]) => f).sort(), Object.keys(OWN).sort());
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { author: string };
    for (const source of TASKS) {
      const committed = fs.readFileSync(path.join(repoRoot, "tasks", source.folder, "task.json"), "utf8");
      const version = parseVersion(readVersionLock().tasks[source.folder]!.version);
      assert.equal(committed, `${JSON.stringify(renderManifest(source, pkg.author, version), null, 2)}\n`, `${source.folder}/task.json is stale: run npm run manifests`);
    }
  });

  it("every task.json validates against the official schema (test/fixtures/tasks.schema.json, with input validation added)", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, "test", "fixtures", "tasks.schema.json"), "utf8")) as object;
    const validate = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }).compile(schema);
    for (const [folder, manifest] of manifests) {
      assert.ok(validate(manifest), `${folder}: ${JSON.stringify(validate.errors, null, 1)}`);
    }
  });

  for (const [folder, m] of manifests) {
    describe(folder, () => {
      it("has exactly the contract's inputs and outputs, restrictions limited to those outputs", () => {
        assert.deepEqual(m.inputs.map((i) => i.name).sort(), [...COMMON, ...OWN[folder]!].sort());
        assert.deepEqual(m.outputVariables.map((o) => o.name).sort(), [...OUTPUTS[folder]!].sort());
        assert.deepEqual([...m.restrictions.settableVariables.allowed].sort(), [...OUTPUTS[folder]!].sort());
        assert.equal(m.inputs.find((i) => i.name === "azureSubscription")?.type, "connectedService:AzureRM");
        assert.equal(m.inputs.find((i) => i.name === "apiVersion")?.options?.["2024-05-01-preview"] !== undefined, true);
      });

      it("name, friendly name ≤ 40 characters, instanceNameFormat naming the job, Node20_1 and Node24 on one file", () => {
        assert.equal(m.name, folder);
        assert.ok(m.friendlyName.length <= 40, `${m.friendlyName.length} characters`);
        assert.match(m.instanceNameFormat, /\$\(jobName\)/);
        for (const ref of m.instanceNameFormat.match(/\$\(([^)]+)\)/g) ?? []) {
          assert.ok(m.inputs.some((i) => `$(${i.name})` === ref), `instanceNameFormat names unknown input ${ref}`);
        }
        assert.deepEqual(Object.keys(m.execution).sort(), ["Node20_1", "Node24"]);
        assert.equal(m.execution["Node20_1"]!.target, "index.js");
        assert.equal(m.execution["Node24"]!.target, "index.js");
      });

      it("every input has help with an example and a group that exists; visibleRules name real inputs and values", () => {
        const groups = new Set(m.groups.map((g) => g.name));
        for (const input of m.inputs) {
          assert.ok(input.helpMarkDown && /example|`/.test(input.helpMarkDown), `${input.name} has no help with an example`);
          assert.ok(input.groupName && groups.has(input.groupName), `${input.name} is in no known group`);
          for (const clause of (input.visibleRule ?? "").split(/&&|\|\|/).filter((c) => c.trim())) {
            const [name, value] = clause.split(/!=|=/).map((x) => x.trim());
            const target = m.inputs.find((i) => i.name === name);
            assert.ok(target, `${input.name}'s visibleRule names unknown input ${name}`);
            if (target.options) assert.ok(value! in target.options, `${input.name}'s visibleRule uses unknown value ${value}`);
          }
        }
      });

      it("task ids are unique GUIDs", () => {
        assert.match(m.id, /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/);
        assert.equal(manifests.filter(([, o]) => o.id === m.id).length, 1);
      });
    });
  }

  it("jobName carries a validation expression the classic editor runs, accepting exactly what the task accepts", () => {
    const samples = ["orders", "orders-enrichment", "a", "a1-b2", "x".repeat(63), "x".repeat(64), "Orders", "orders_enrichment", "-orders", "orders-", "orders enrichment", "ördersß"];
    for (const [folder, m] of manifests) {
      const validation = m.inputs.find((i) => i.name === "jobName")?.validation;
      assert.ok(validation, `${folder}: jobName has no validation`);
      // isMatch(value, 'pattern') with no options: case-sensitive (IsMatchNode takes 2 or 3 arguments).
      const pattern = /^isMatch\(value, '([^']+)'\)$/.exec(validation.expression)?.[1];
      assert.ok(pattern, `${folder}: ${validation.expression}`);
      const regex = new RegExp(pattern);
      assert.ok(regex.test(""), "an empty value is for the required check to judge");
      for (const sample of samples) {
        let accepted = true;
        try {
          jobName("jobName", sample);
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          accepted = false;
        }
        assert.equal(regex.test(sample), accepted, `${folder}: '${sample}' is ${accepted ? "accepted" : "refused"} by the task`);
      }
      assert.match(validation.message, /lower-case letters, digits and '-'.*orders-enrichment/);
    }
  });

  it("each task's help links to its own section of overview.md on the project's page (package.json repository), and the extension links there too", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { repository: { url: string }; license: string };
    const repository = pkg.repository.url.replace(/\.git$/, "");
    assert.match(repository, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    const overview = fs.readFileSync(path.join(repoRoot, "overview.md"), "utf8");
    const anchors = new Set([...overview.matchAll(/^#{2,4} (.+)$/gm)].map((h) => headingAnchor(h[1]!)));
    for (const [folder, m] of manifests) {
      const url = new URL(m.helpUrl);
      assert.equal(`${url.origin}${url.pathname}`, `${repository}/blob/main/overview.md`, folder);
      assert.ok(anchors.has(url.hash.slice(1)), `${folder}: ${url.hash} is no heading of overview.md`);
      assert.ok(url.hash.startsWith(`#${folder.toLowerCase()}-`), `${folder}: ${url.hash} is not its own section`);
      assert.ok(m.helpMarkDown.includes(m.helpUrl) && !m.helpMarkDown.includes("marketplace.visualstudio.com/)"), folder);
    }
    const ext = JSON.parse(fs.readFileSync(path.join(repoRoot, "vss-extension.json"), "utf8")) as { links: Record<string, { uri: string }>; repository: { type: string; uri: string } };
    assert.deepEqual(ext.repository, { type: "git", uri: repository });
    assert.equal(ext.links["support"]?.uri, `${repository}/issues`);
    assert.equal(ext.links["repository"]?.uri, repository);
    for (const link of Object.values(ext.links)) assert.ok(link.uri.startsWith(repository), link.uri);
    assert.ok(overview.includes(`](${repository})`) && overview.includes(`](${repository}/issues)`), "overview.md links to the repository and its issues");
    assert.equal(pkg.license, "MIT");
    assert.match(fs.readFileSync(path.join(repoRoot, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  it("the HDInsight inputs show with target hdinsightAks, the Flink REST ones with flinkRest; jobName's picklist comes from the ApacheFlink connection's FlinkJobs data source", () => {
    const ext = JSON.parse(fs.readFileSync(path.join(repoRoot, "vss-extension.json"), "utf8")) as { contributions: { properties: { name?: string; dataSources?: { name: string }[] } }[] };
    const flinkType = ext.contributions.find((c) => c.properties.name === "ApacheFlink")!;
    for (const [folder, m] of manifests) {
      for (const name of ["azureSubscription", "resourceGroupName", "clusterPoolName", "clusterName", "apiVersion"]) {
        assert.equal(m.inputs.find((i) => i.name === name)?.visibleRule, "target = hdinsightAks", `${folder} ${name}`);
      }
      for (const name of ["flinkConnection", "entraIdConnection", "entraIdScope"]) {
        assert.equal(m.inputs.find((i) => i.name === name)?.visibleRule, "target = flinkRest", `${folder} ${name}`);
      }
      assert.equal(m.inputs.find((i) => i.name === "flinkConnection")?.type, "connectedService:ApacheFlink");
      const jobs = (m.dataSourceBindings as Array<{ target: string; endpointId?: string; dataSourceName?: string }>).find((b) => b.target === "jobName");
      assert.equal(jobs?.endpointId, "$(flinkConnection)", folder);
      assert.ok(flinkType.properties.dataSources!.some((d) => d.name === jobs?.dataSourceName), `${folder}: no data source ${jobs?.dataSourceName}`);
    }
  });

  it("savepointName is shown only in savepoint mode", () => {
    const start = manifests.find(([f]) => f === "FlinkJobStart")![1];
    const update = manifests.find(([f]) => f === "FlinkJobUpdate")![1];
    assert.equal(start.inputs.find((i) => i.name === "savepointName")?.visibleRule, "startMode = savepoint");
    assert.equal(update.inputs.find((i) => i.name === "savepointName")?.visibleRule, "upgradeMode = savepoint");
  });

  it("savepointFormat and restoreMode show only with target flinkRest (HDInsight on AKS has no such switch)", () => {
    for (const [folder, m] of manifests) {
      for (const name of ["savepointFormat", "restoreMode"]) {
        const rule = m.inputs.find((i) => i.name === name)?.visibleRule;
        if (rule !== undefined) assert.match(rule, /(^|&& )target = flinkRest( &&|$)/, `${folder} ${name}`);
      }
    }
  });

  it("FlinkJobDeploy: the HDInsight inputs and jobJarDirectory only with target hdinsightAks, the Flink connection only with flinkRest", () => {
    const deploy = manifests.find(([f]) => f === "FlinkJobDeploy")![1];
    for (const name of ["azureSubscription", "resourceGroupName", "clusterPoolName", "clusterName", "apiVersion", "jobJarDirectory"]) {
      assert.equal(deploy.inputs.find((i) => i.name === name)?.visibleRule, "target = hdinsightAks", name);
    }
    assert.equal(deploy.inputs.find((i) => i.name === "flinkConnection")?.visibleRule, "target = flinkRest");
    assert.equal(deploy.inputs[0]!.name, "target");
  });

  it("vss-extension.json contributes every task exactly once", () => {
    const ext = JSON.parse(fs.readFileSync(path.join(repoRoot, "vss-extension.json"), "utf8")) as { contributions: { type: string; properties: { name: string } }[] };
    const contributed = ext.contributions.filter((c) => c.type === "ms.vss-distributed-task.task").map((c) => c.properties.name);
    assert.deepEqual(contributed.sort(), manifests.map(([f]) => `tasks/${f}`).sort());
  });
});

describe("classic-editor picklists (dataSourceBindings) against the emulator's ARM", function () {
  this.timeout(30_000);
  let emulator: Emulator;
  before(async () => {
    // Two items a page, so that a list of three or more needs its nextLink.
    emulator = await startEmulator({ timeScale: 10, pageSize: 2 });
  });
  after(async () => emulator?.close());

  /**
   * The helpers of the server's templates that our bindings use: getTokenValue (a value of the
   * response), extractUrlQueryParameter (a query parameter of that URL), isTokenPresent.
   */
  function callbackContext(template: string, response: Record<string, unknown>): Record<string, string> {
    const filled = template.replace(/\{\{#getTokenValue response\.(\w+)\}\}\{\{extractUrlQueryParameter (\S+)\}\}\{\{\/getTokenValue\}\}/g, (_, key: string, parameter: string) => {
      const link = response[key];
      return typeof link === "string" ? (new URL(link).searchParams.get(decodeURIComponent(parameter)) ?? "") : "";
    });
    return JSON.parse(filled) as Record<string, string>;
  }
  const callbackRequired = (template: string, response: Record<string, unknown>) =>
    template.replace(/\{\{isTokenPresent response\.(\w+)\}\}/, (_, key: string) => String(typeof response[key] === "string" && response[key] !== "")) === "true";

  /** What the Azure DevOps server does with a binding: fill the URL, GET it, select, template; call again while the callback says so. */
  async function resolve(target: string, inputs: Record<string, string>): Promise<{ Value: string; DisplayValue: string }[]> {
    const binding = ARM_PICKLISTS.find((b) => b.target === target)!;
    let context = JSON.parse(binding.initialContextTemplate) as Record<string, string>;
    const items: { Value: string; DisplayValue: string }[] = [];
    for (let call = 1; ; call++) {
      assert.ok(call <= 20, "the binding keeps calling");
      const url = binding.endpointUrl
        .replace("{{{endpoint.url}}}", `${emulator.url}/`)
        .replace("{{{endpoint.subscriptionId}}}", emulator.subscriptionId)
        .replace(/\{\{\{(\w+)\}\}\}/g, (_, name: string) => encodeURIComponent(context[name] ?? ""))
        .replace(/\$\((\w+)\)/g, (_, name: string) => inputs[name] ?? "");
      const response = await get(url);
      assert.equal(binding.resultSelector, "jsonpath:$.value[*]");
      items.push(
        ...(response["value"] as Record<string, string>[]).map(
          (item) => JSON.parse(binding.resultTemplate.replace(/\{\{\{(\w+)\}\}\}/g, (_, key: string) => item[key] ?? "")) as { Value: string; DisplayValue: string },
        ),
      );
      if (!callbackRequired(binding.callbackRequiredTemplate, response)) return items;
      context = callbackContext(binding.callbackContextTemplate, response);
    }
  }

  async function get(url: string): Promise<Record<string, unknown>> {
    const credential = new ClientSecretCredential(emulator.tenantId, emulator.servicePrincipal.clientId, emulator.servicePrincipal.clientSecret, {
      authorityHost: emulator.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.caCertPem },
    } as never);
    const token = await credential.getToken(`${emulator.url}/.default`);
    const https = await import("node:https");
    const response = await axios.get(url, { headers: { Authorization: `Bearer ${token!.token}` }, httpsAgent: new https.Agent({ ca: emulator.caCertPem }) });
    return response.data as Record<string, unknown>;
  }

  it("lists resource groups", async () => {
    const values = (await resolve("resourceGroupName", {})).map((v) => v.Value);
    assert.ok(values.includes(emulator.resourceGroup), values.join(", "));
  });

  it("lists the cluster pools of the chosen resource group", async () => {
    const items = await resolve("clusterPoolName", { resourceGroupName: emulator.resourceGroup });
    assert.deepEqual(items.map((v) => v.Value), [emulator.clusterPool]);
    assert.equal(items[0]!.DisplayValue, `${emulator.clusterPool} (${emulator.location})`);
  });

  it("lists the clusters of the chosen pool", async () => {
    const items = await resolve("clusterName", { resourceGroupName: emulator.resourceGroup, clusterPoolName: emulator.clusterPool });
    assert.deepEqual(items.map((v) => v.Value), [emulator.cluster]);
  });

  it("follows nextLink, so a long list is not cut at the first page (resource groups, pools, clusters)", async () => {
    for (const n of [1, 2, 3, 4]) {
      emulator.clusters.add({ resourceGroup: `rg-${n}`, clusterPool: "flinkpool", cluster: "flinkcluster" });
      emulator.clusters.add({ resourceGroup: "rg-many", clusterPool: `pool-${n}`, cluster: "flinkcluster" });
      emulator.clusters.add({ resourceGroup: "rg-many", clusterPool: "pool-1", cluster: `cluster-${n}` });
    }
    const groups = (await resolve("resourceGroupName", {})).map((v) => v.Value);
    assert.deepEqual([...groups].sort(), [emulator.resourceGroup, "rg-1", "rg-2", "rg-3", "rg-4", "rg-many"].sort());
    const pools = (await resolve("clusterPoolName", { resourceGroupName: "rg-many" })).map((v) => v.Value);
    assert.deepEqual(pools, ["pool-1", "pool-2", "pool-3", "pool-4"]);
    const clusters = (await resolve("clusterName", { resourceGroupName: "rg-many", clusterPoolName: "pool-1" })).map((v) => v.Value);
    assert.deepEqual(clusters, ["flinkcluster", "cluster-1", "cluster-2", "cluster-3", "cluster-4"]);
  });
});

describe("the packaged .vsix", function () {
  this.timeout(120_000);
  it("contains exactly the manifest, overview, icons and each task's split bundle, task.json and icon", async () => {
    const vsix = await packageExtension();
    // What the build staged for each task: the handler, the entry, both backends and the chunks they share.
    const shipped = (f: string) => fs.readdirSync(path.join(repoRoot, "dist", "tasks", f)).map((file) => `tasks/${f}/${file}`);
    for (const [f] of manifests) {
      for (const file of [HANDLER_FILE, ENTRY_FILE, ...Object.values(BACKEND_FILES), "task.json", "icon.png"]) assert.ok(shipped(f).includes(`tasks/${f}/${file}`), `${f} lacks ${file}`);
    }
    const names = zipEntryNames(vsix).filter((n) => !n.endsWith("/"));
    const expected = [
      "[Content_Types].xml",
      "extension.vsixmanifest",
      "extension.vsomanifest",
      "overview.md",
      ...shippedImages(),
      ...manifests.flatMap(([f]) => shipped(f)),
    ];
    assert.deepEqual([...names].sort(), [...expected].sort());
    assert.ok(names.includes("images/extension-icon.png"));
    assert.ok(fs.statSync(vsix).size < 3 * 1024 * 1024, "the .vsix is over 3 MB");
  });
});
