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

/** Where a cluster sits in ARM: resource group, pool, cluster. */
export interface ClusterAddress {
  resourceGroup: string;
  clusterPool: string;
  cluster: string;
}

/** ARM compares resource names case-insensitively. */
export function sameName(a: string | undefined, b: string | undefined): boolean {
  return (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
}

/**
 * The clusters the emulator hosts: the topology's own and any added later (the local runner adds
 * those its pipeline names), each with its own job store; every cluster shares the subscription,
 * tenant and location.
 */
export class ClusterDirectory<Store> {
  private readonly entries: Array<{ topo: Topology; store: Store }> = [];

  constructor(
    primary: Topology,
    primaryStore: Store,
    private readonly newStore: (cluster: string) => Store,
  ) {
    this.entries.push({ topo: primary, store: primaryStore });
  }

  /** Adds a cluster (and with it its pool and resource group); an existing one is left as it is. */
  add(address: ClusterAddress): void {
    for (const [what, name] of Object.entries(address)) if (!/^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$/.test(name)) throw new Error(`${what} '${name}' is not a valid ARM resource name`);
    if (this.find(address.resourceGroup, address.clusterPool, address.cluster)) return;
    const primary = this.entries[0]!.topo;
    this.entries.push({ topo: { ...primary, ...address }, store: this.newStore(address.cluster) });
  }

  list(): ClusterAddress[] {
    return this.entries.map(({ topo }) => ({ resourceGroup: topo.resourceGroup, clusterPool: topo.clusterPool, cluster: topo.cluster }));
  }

  /** One topology per resource group (its first cluster), in the order they were added. */
  resourceGroups(): Topology[] {
    return this.unique((t) => t.resourceGroup.toLowerCase());
  }

  /** The clusters in a resource group. */
  inResourceGroup(resourceGroup: string | undefined): Topology[] {
    return this.entries.map((e) => e.topo).filter((t) => sameName(t.resourceGroup, resourceGroup));
  }

  /** One topology per pool of a resource group. */
  pools(resourceGroup: string | undefined): Topology[] {
    return this.unique((t) => t.clusterPool.toLowerCase(), this.inResourceGroup(resourceGroup));
  }

  find(resourceGroup: string | undefined, clusterPool: string | undefined, cluster: string | undefined): { topo: Topology; store: Store } | undefined {
    return this.entries.find(({ topo }) => sameName(topo.resourceGroup, resourceGroup) && sameName(topo.clusterPool, clusterPool) && sameName(topo.cluster, cluster));
  }

  private unique(key: (t: Topology) => string, from: Topology[] = this.entries.map((e) => e.topo)): Topology[] {
    const seen = new Set<string>();
    return from.filter((t) => !seen.has(key(t)) && !!seen.add(key(t)));
  }
}
