/**
 * What a pipeline names on the service side: the clusters (resource group, pool, cluster) of its
 * steps and the jars its submits download. The local runner creates them in its embedded emulator
 * as it starts, so a pipeline written for real names (rg-flink-prod, orders-1.4.0.jar) runs as
 * written. Values are read as the agent would see them before the run: pipeline, stage and job
 * variables and --var values expanded; a value that still holds a macro (an output variable, a
 * runtime expression) is known only at run time and is reported, not guessed.
 */
import type { ClusterAddress } from "../emulator/index";
import { expandMacros, VariableScope } from "./expressions";
import type { PipelinePlan, VariableDefinition } from "./pipeline";

export interface NamedJar {
  jobJarDirectory: string;
  jarName: string;
}

export interface NamedResources {
  clusters: ClusterAddress[];
  jars: NamedJar[];
  /** Inputs whose value is known only at run time, e.g. "step 3 (submit): clusterName is $(cluster.name)". */
  unresolved: string[];
}

function define(scope: VariableScope, definitions: VariableDefinition[]): VariableScope {
  for (const d of definitions) scope.set(d.name, d.value);
  return scope;
}

const RUNTIME_ONLY = /\$\(|\$\[|\$\{\{/;

export function namedResources(plan: PipelinePlan, queueVariables: Record<string, string> = {}): NamedResources {
  const queue = Object.entries(queueVariables).map(([name, value]) => ({ name, value }));
  const clusters: ClusterAddress[] = [];
  const jars: NamedJar[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  const once = (key: string) => !seen.has(key.toLowerCase()) && !!seen.add(key.toLowerCase());
  const pipelineScope = define(new VariableScope(), plan.variables);
  for (const stage of plan.stages) {
    const stageScope = define(new VariableScope(pipelineScope), stage.variables);
    for (const job of stage.jobs) {
      const scope = define(define(new VariableScope(stageScope), job.variables), queue);
      for (const step of job.steps) {
        if (!step.task || step.notRunReason) continue;
        const where = `step ${step.index}${step.name ? ` (${step.name})` : ""}`;
        const value = (input: string): string | undefined => {
          const raw = step.inputs[input];
          if (raw === undefined || raw.trim() === "") return undefined;
          const expanded = expandMacros(raw, scope).trim();
          if (RUNTIME_ONLY.test(expanded)) {
            unresolved.push(`${where}: ${input} is ${expanded}`);
            return undefined;
          }
          return expanded;
        };
        const [resourceGroup, clusterPool, cluster] = [value("resourceGroupName"), value("clusterPoolName"), value("clusterName")];
        if (resourceGroup && clusterPool && cluster && once(`cluster ${resourceGroup}/${clusterPool}/${cluster}`)) clusters.push({ resourceGroup, clusterPool, cluster });
        if (step.task.name === "FlinkJobSubmit") {
          const [jobJarDirectory, jarName] = [value("jobJarDirectory"), value("jarName")];
          if (jobJarDirectory && jarName && once(`jar ${jobJarDirectory}/${jarName}`)) jars.push({ jobJarDirectory, jarName });
        }
      }
    }
  }
  return { clusters, jars, unresolved };
}

/** The part of the emulator this needs: adding clusters and jars. */
export interface ProvisionTarget {
  clusters: { add(address: ClusterAddress): void };
  storage: { addJar(jobJarDirectory: string, jarName: string): void };
}

/** Creates what the pipeline names in the emulator; returns the lines that say what was done. */
export function provision(emulator: ProvisionTarget, resources: NamedResources): string[] {
  if (!resources.clusters.length && !resources.jars.length && !resources.unresolved.length) return [];
  const lines = ["The embedded emulator serves what this pipeline names:"];
  for (const c of resources.clusters) {
    try {
      emulator.clusters.add(c);
      lines.push(`  cluster ${c.cluster} in pool ${c.clusterPool}, resource group ${c.resourceGroup}`);
    } catch (error) {
      lines.push(`  not created: ${(error as Error).message} (the step will say what is wrong)`);
    }
  }
  for (const j of resources.jars) {
    emulator.storage.addJar(j.jobJarDirectory, j.jarName);
    lines.push(`  jar ${j.jobJarDirectory.replace(/\/+$/, "")}/${j.jarName}`);
  }
  for (const u of resources.unresolved) lines.push(`  not created, known only at run time: ${u}`);
  return lines;
}
