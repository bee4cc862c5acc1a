import crypto from "node:crypto";
import type { VirtualClock } from "../clock";
import type { ResolvedConfig } from "../config";
import type { EntraId } from "../entra";
import type { FaultInjector } from "../faults";
import type { JobStore } from "../flink/state-machine";
import { bearerToken, type Reply, type RequestContext, type RouteName } from "../http";
import { ArmError } from "./errors";
import type { OperationStore } from "./operations";
import { API_VERSIONS, clusterId, clusterPoolId, features, resourceGroupId, subscriptionId, type ApiVersion, type Topology } from "./topology";
import { validateRunJobBody } from "./validation";

/** Permissions ARM checks per route (RBAC action names from the docs). */
const PERMISSION: Partial<Record<RouteName, string>> = {
  runJob: "Microsoft.HDInsight/clusterPools/clusters/runjob/action",
  jobs: "Microsoft.HDInsight/clusterPools/clusters/jobs/read",
  operation: "Microsoft.HDInsight/locations/operationStatuses/read",
  clusters: "Microsoft.HDInsight/clusterPools/clusters/read",
  clusterPools: "Microsoft.HDInsight/clusterPools/read",
  resourceGroups: "Microsoft.Resources/subscriptions/resourceGroups/read",
  subscriptions: "Microsoft.Resources/subscriptions/read",
};

/** Generic resource-manager api-versions accepted on the subscription / resource-group routes. */
const RESOURCES_API = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/** Matches ARM paths case-insensitively; returns the route and its parameters. */
export function matchArmPath(path: string): { route: RouteName; params: Record<string, string> } | undefined {
  const seg = path.split("/").filter(Boolean);
  const lower = seg.map((s) => s.toLowerCase());
  if (lower[0] === "providers" && lower[1] === "microsoft.hdinsight" && lower[2] === "locations" && lower[4] === "operationstatuses" && seg.length === 6)
    return { route: "operation", params: { location: seg[3]!, operation: seg[5]! } };
  if (lower[0] !== "subscriptions") return undefined;
  const params: Record<string, string> = {};
  if (seg.length === 1) return { route: "subscriptions", params };
  params["subscription"] = seg[1]!;
  if (seg.length === 2) return { route: "subscriptions", params };
  if (lower[2] !== "resourcegroups") return { route: "armUnknown", params };
  if (seg.length === 3) return { route: "resourceGroups", params };
  params["resourceGroup"] = seg[3]!;
  if (seg.length === 4) return { route: "resourceGroups", params };
  if (lower[4] !== "providers" || lower[5] !== "microsoft.hdinsight" || lower[6] !== "clusterpools") return { route: "armUnknown", params };
  if (seg.length === 7) return { route: "clusterPools", params };
  params["clusterPool"] = seg[7]!;
  if (seg.length === 8) return { route: "clusterPools", params };
  if (lower[8] !== "clusters") return { route: "armUnknown", params };
  if (seg.length === 9) return { route: "clusters", params };
  params["cluster"] = seg[9]!;
  if (seg.length === 10) return { route: "clusters", params };
  if (seg.length === 11 && lower[10] === "runjob") return { route: "runJob", params };
  if (seg.length === 11 && lower[10] === "jobs") return { route: "jobs", params };
  return { route: "armUnknown", params };
}

export class ArmApi {
  constructor(
    private readonly url: string,
    private readonly topo: Topology,
    private readonly entra: EntraId,
    private readonly store: JobStore,
    private readonly operations: OperationStore,
    private readonly faults: FaultInjector,
    private readonly clock: VirtualClock,
    private readonly config: ResolvedConfig,
  ) {}

  handle(ctx: RequestContext): Reply {
    try {
      return this.dispatch(ctx);
    } catch (e) {
      if (e instanceof ArmError) return e.toReply();
      throw e;
    }
  }

  private dispatch(ctx: RequestContext): Reply {
    const claims = this.authenticate(ctx);
    if (ctx.route === "operation") {
      const op = this.operations.resolve(ctx.path, ctx.query, this.config.guesses.badOperationSignatureStatus);
      this.authorize(ctx, claims);
      if (ctx.method !== "GET") throw methodNotAllowed(ctx);
      return this.operations.reply(op, this.clock.now(), this.config.guesses.operationStatus === "noStatus");
    }
    const apiVersion = ctx.query.get("api-version");
    if (!apiVersion) throw new ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    if (ctx.route === "subscriptions" && ctx.params["subscription"] === undefined) {
      this.checkGenericApiVersion(apiVersion);
      this.authorize(ctx, claims);
      return { status: 200, json: { value: [this.subscriptionResource()], count: { type: "Total", value: 1 } } };
    }
    const sub = ctx.params["subscription"] ?? "";
    if (sub.toLowerCase() !== this.topo.subscriptionId.toLowerCase())
      throw new ArmError(404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
    this.authorize(ctx, claims);
    if (ctx.route === "subscriptions") {
      this.checkGenericApiVersion(apiVersion);
      return { status: 200, json: this.subscriptionResource() };
    }
    if (ctx.route === "armUnknown")
      throw new ArmError(400, "InvalidResourceType", `The resource type could not be found in the namespace for path '${ctx.path}' with api-version '${apiVersion}'.`);
    const rg = ctx.params["resourceGroup"];
    if (ctx.route === "resourceGroups" && rg === undefined) {
      this.checkGenericApiVersion(apiVersion);
      return { status: 200, json: { value: [this.resourceGroupResource()] } };
    }
    if ((rg ?? "").toLowerCase() !== this.topo.resourceGroup.toLowerCase())
      throw new ArmError(404, "ResourceGroupNotFound", `Resource group '${rg ?? ""}' could not be found.`);
    if (ctx.route === "resourceGroups") {
      this.checkGenericApiVersion(apiVersion);
      return { status: 200, json: this.resourceGroupResource() };
    }
    const v = this.checkApiVersion(apiVersion);
    const pool = ctx.params["clusterPool"];
    if (ctx.route === "clusterPools" && pool === undefined) return { status: 200, json: { value: [this.clusterPoolResource()] } };
    if ((pool ?? "").toLowerCase() !== this.topo.clusterPool.toLowerCase()) throw notFound(`Microsoft.HDInsight/clusterpools/${pool ?? ""}`, this.topo.resourceGroup);
    if (ctx.route === "clusterPools") return { status: 200, json: this.clusterPoolResource() };
    const cluster = ctx.params["cluster"];
    if (ctx.route === "clusters" && cluster === undefined) return { status: 200, json: { value: [this.clusterResource()] } };
    if ((cluster ?? "").toLowerCase() !== this.topo.cluster.toLowerCase())
      throw notFound(`Microsoft.HDInsight/clusterpools/${this.topo.clusterPool}/clusters/${cluster ?? ""}`, this.topo.resourceGroup);
    if (ctx.route === "clusters") return { status: 200, json: this.clusterResource() };
    if (ctx.route === "runJob") {
      if (ctx.method !== "POST") throw methodNotAllowed(ctx);
      return this.runJob(ctx, v);
    }
    if (ctx.method !== "GET") throw methodNotAllowed(ctx);
    return this.listJobs(ctx, v);
  }

  private authenticate(ctx: RequestContext): Record<string, unknown> {
    const wwwAuth = (desc: string) => ({
      "www-authenticate": `Bearer authorization_uri="${this.entra.authorityHost}${this.topo.tenantId}", error="invalid_token", error_description="${desc}"`,
    });
    const header = ctx.headers["authorization"];
    if (!header)
      throw new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", undefined, wwwAuth("The authentication failed because of missing 'Authorization' header."));
    const token = bearerToken(ctx.headers);
    if (!token)
      throw new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.", undefined, wwwAuth("The authentication failed because of invalid 'Authorization' header."));
    const check = this.entra.verifyAccessToken(token);
    if (!check.ok) throw new ArmError(401, check.code, check.message, undefined, wwwAuth(check.message));
    return check.claims;
  }

  /** RBAC: only ever refuses through an injected 'forbidden' fault. */
  private authorize(ctx: RequestContext, claims: Record<string, unknown>): void {
    const body = ctx.body as { properties?: { jobName?: string; action?: string } } | undefined;
    const rule = this.faults.take(["forbidden"], { route: ctx.route, jobName: body?.properties?.jobName, action: body?.properties?.action });
    if (!rule) return;
    const oid = String(claims["oid"] ?? "");
    const permission = PERMISSION[ctx.route] ?? "Microsoft.HDInsight/*/read";
    const scope = ctx.route === "operation" ? `/providers/Microsoft.HDInsight/locations/${this.topo.location}` : clusterId(this.topo);
    throw new ArmError(
      403,
      "AuthorizationFailed",
      `The client '${oid}' with object id '${oid}' does not have authorization to perform action '${permission}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }

  private checkApiVersion(v: string): ApiVersion {
    if ((API_VERSIONS as readonly string[]).includes(v)) return v as ApiVersion;
    throw new ArmError(
      400,
      "InvalidApiVersionParameter",
      `The api-version '${v}' is invalid. The supported versions are '${[...API_VERSIONS].reverse().join(",")}'.`,
    );
  }

  private checkGenericApiVersion(v: string): void {
    if (!RESOURCES_API.test(v)) throw new ArmError(400, "InvalidApiVersionParameter", `The api-version '${v}' is invalid. The supported versions are '2022-12-01,2021-04-01,2020-01-01'.`);
  }

  private runJob(ctx: RequestContext, v: ApiVersion): Reply {
    const ct = (ctx.headers["content-type"] ?? "").toLowerCase();
    if (ctx.rawBody.length > 0 && !ct.includes("json"))
      throw new ArmError(415, "UnsupportedMediaType", `The content media type '${ct}' is not supported. Only 'application/json' is supported.`);
    if (ctx.bodyError) throw new ArmError(400, "InvalidRequestContent", `The request content was invalid and could not be deserialized: '${ctx.bodyError}'.`);
    const req = validateRunJobBody(ctx.body, v, this.config.guesses);
    if (req instanceof ArmError) throw req;
    if (req.action === "NEW" && req.runId !== undefined && this.store.runIdInUse(req.runId))
      throw new ArmError(400, "InvalidRequestContent", `A job with runId '${req.runId}' already exists.`, "properties.runId");

    const now = this.clock.now();
    const match = { route: ctx.route, jobName: req.jobName, action: req.action };
    // Peek now, consume only if the action is really accepted.
    const never = this.faults.take(["neverFinish"], match, false);
    const fail = this.faults.take(["actionFail"], match, false);
    const crash = this.faults.take(["crash"], match, false);
    const result = this.store.submit(req, {
      now,
      staleWindowMs: this.config.staleWindowMs,
      durationMs: this.config.actionDurationMs[req.action] ?? 3000,
      ...(never ? { neverFinish: true } : {}),
      ...(fail ? { forced: { jobOutput: fail.jobOutput ?? "", ...(fail.jobStatus ? { jobStatus: fail.jobStatus } : {}), ...(fail.keepSavepoint ? { keepSavepoint: true } : {}) } } : {}),
      ...(crash ? { crashAfterMs: crash.afterMs ?? 0 } : {}),
    });
    let failure: { code: string; message: string } | undefined;
    if (result.kind === "accepted") {
      if (never) this.faults.take(["neverFinish"], match);
      if (fail) this.faults.take(["actionFail"], match);
      if (crash) this.faults.take(["crash"], match);
    } else if (result.kind === "notFound") {
      if (this.config.guesses.missingJob === "notFound") throw new ArmError(404, "JobNotFound", result.message);
      failure = { code: "JobNotFound", message: result.message };
    } else if (result.kind === "conflict") {
      if (this.config.guesses.concurrentAction === "conflict") throw new ArmError(409, "Conflict", result.message);
      failure = { code: "Conflict", message: result.message };
    }
    const op = this.operations.create(v, clusterId(this.topo), now, this.config.operationDurationMs, failure);
    const url = this.operations.signedUrl(op);
    ctx.requestId = op.guid; // REAL: x-ms-request-id equals the operation guid
    return { status: 202, json: null, headers: { location: url, "azure-asyncoperation": url } };
  }

  private listJobs(ctx: RequestContext, v: ApiVersion): Reply {
    const f = features(v);
    const filterText = ctx.query.get("$filter");
    let filter: { field: "jobName" | "jarName"; value: string } | undefined;
    if (filterText !== null) {
      if (!f.filter) {
        if (this.config.guesses.filterOn2023_06 === "reject")
          throw new ArmError(400, "InvalidFilterParameter", `The $filter query parameter is not supported in api-version ${v}.`);
      } else {
        filter = this.parseFilter(filterText);
      }
    }
    const skipParam = ctx.query.get("$skipToken") ?? ctx.query.get("$skiptoken");
    let offset = 0;
    if (skipParam !== null) {
      const parsed = Number(Buffer.from(skipParam, "base64url").toString("utf8").replace(/^offset:/, ""));
      if (!Number.isInteger(parsed) || parsed < 0 || !Buffer.from(skipParam, "base64url").toString("utf8").startsWith("offset:"))
        throw new ArmError(400, "InvalidSkipToken", `The $skipToken '${skipParam}' is not valid.`);
      offset = parsed;
    }
    const now = this.clock.now();
    const cid = clusterId(this.topo);
    const items: Array<{ id: string; properties: Record<string, unknown> }> = [];
    for (const r of this.store.visible(now)) {
      const props = this.store.view(r, now);
      if (!props) continue;
      if (filter && props[filter.field] !== filter.value) continue;
      if (this.faults.take(["omitJob"], { route: "jobs", jobName: props.jobName })) continue;
      const out: Record<string, unknown> = { ...props };
      if (!f.runId) delete out["runId"];
      items.push({ id: `${cid}/jobs/${f.runId ? r.runId : props.jobName}`, properties: out });
    }
    if (this.config.guesses.listOrder === "newestFirst") items.reverse();
    const page = items.slice(offset, offset + this.config.pageSize);
    const body: Record<string, unknown> = { value: page };
    if (offset + this.config.pageSize < items.length) {
      const next = new URLSearchParams({ "api-version": v });
      if (filterText !== null && f.filter) next.set("$filter", filterText);
      next.set("$skipToken", Buffer.from(`offset:${offset + this.config.pageSize}`).toString("base64url"));
      body["nextLink"] = `${this.url}${cid}/jobs?${next.toString()}`;
    }
    return { status: 200, json: body };
  }

  private parseFilter(text: string): { field: "jobName" | "jarName"; value: string } {
    const m = /^\s*(jobName|jarName)\s+eq\s+(?:'((?:[^']|'')*)'|([^\s']+))\s*$/i.exec(text);
    const quoting = this.config.guesses.filterQuoting;
    const unknown = !m || (m[2] !== undefined && quoting === "unquoted") || (m[3] !== undefined && quoting === "quoted");
    // No job is named "": the filter then matches nothing, as a service that ignores it might answer.
    if (unknown && this.config.guesses.unknownFilterQuoting === "emptyList") return { field: "jobName", value: "" };
    if (unknown)
      throw new ArmError(400, "InvalidFilterParameter", `The $filter '${text}' is not supported. Use "jobName eq 'name'" or "jarName eq 'name'".`);
    const field = m[1]!.toLowerCase() === "jobname" ? "jobName" : "jarName";
    return { field, value: m[2] !== undefined ? m[2].replace(/''/g, "'") : m[3]! };
  }

  private subscriptionResource(): Record<string, unknown> {
    return {
      id: subscriptionId(this.topo),
      authorizationSource: "RoleBased",
      managedByTenants: [],
      subscriptionId: this.topo.subscriptionId,
      tenantId: this.topo.tenantId,
      displayName: "Flink Emulator Subscription",
      state: "Enabled",
      subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
    };
  }

  private resourceGroupResource(): Record<string, unknown> {
    return {
      id: resourceGroupId(this.topo),
      name: this.topo.resourceGroup,
      type: "Microsoft.Resources/resourceGroups",
      location: this.topo.location,
      properties: { provisioningState: "Succeeded" },
    };
  }

  private clusterPoolResource(): Record<string, unknown> {
    return {
      id: clusterPoolId(this.topo),
      name: this.topo.clusterPool,
      type: "Microsoft.HDInsight/clusterpools",
      location: this.topo.location,
      properties: {
        provisioningState: "Succeeded",
        deploymentId: deterministicHex(this.topo.clusterPool, 32),
        managedResourceGroupName: `${this.topo.clusterPool}-managed-rg`,
        aksManagedResourceGroupName: `MC_${this.topo.clusterPool}-managed-rg_${this.topo.location}`,
        clusterPoolProfile: { clusterPoolVersion: "1.2" },
        computeProfile: { vmSize: "Standard_D4a_v4", count: 3 },
        status: "Running",
      },
    };
  }

  private clusterResource(): Record<string, unknown> {
    return {
      id: clusterId(this.topo),
      name: this.topo.cluster,
      type: "Microsoft.HDInsight/clusterpools/clusters",
      location: this.topo.location,
      properties: {
        provisioningState: "Succeeded",
        clusterType: "Flink",
        deploymentId: deterministicHex(this.topo.cluster, 32),
        status: "Running",
        clusterProfile: { clusterVersion: "1.1.1", ossVersion: "1.17.0" },
      },
    };
  }
}

function notFound(type: string, rg: string): ArmError {
  return new ArmError(404, "ResourceNotFound", `The Resource '${type}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
}

function methodNotAllowed(ctx: RequestContext): ArmError {
  return new ArmError(405, "HttpMethodNotAllowed", `The http method '${ctx.method}' is not supported for a resource collection or resource of this type.`);
}

function deterministicHex(seed: string, n: number): string {
  return crypto.createHash("sha256").update(seed).digest("hex").slice(0, n);
}
