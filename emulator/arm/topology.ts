/** The one subscription / resource group / cluster pool / cluster the emulator hosts. */
export interface Topology {
  subscriptionId: string;
  tenantId: string;
  resourceGroup: string;
  clusterPool: string;
  cluster: string;
  /** ARM location name, e.g. "westus2"; operation URLs use it upper-cased (REAL: WESTUS2). */
  location: string;
}

export const API_VERSIONS = ["2023-06-01-preview", "2023-11-01-preview", "2024-05-01-preview"] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** Differences between api-versions (SPEC). */
export function features(v: ApiVersion): { runId: boolean; filter: boolean; extraActions: boolean } {
  const newer = v !== "2023-06-01-preview";
  return { runId: newer, filter: newer, extraActions: newer };
}

export function subscriptionId(t: Topology): string {
  return `/subscriptions/${t.subscriptionId}`;
}
export function resourceGroupId(t: Topology): string {
  return `${subscriptionId(t)}/resourceGroups/${t.resourceGroup}`;
}
export function clusterPoolId(t: Topology): string {
  return `${resourceGroupId(t)}/providers/Microsoft.HDInsight/clusterpools/${t.clusterPool}`;
}
export function clusterId(t: Topology): string {
  return `${clusterPoolId(t)}/clusters/${t.cluster}`;
}
