import crypto from "node:crypto";
import type { VirtualClock } from "./clock";
import { TOKEN_EXCHANGE_AUDIENCE } from "./entra";
import { bearerToken, type Reply, type RequestContext } from "./http";
import { signJwt } from "./jwt";
import type { PersistentState } from "./state-dir";

/**
 * The Azure DevOps endpoint behind System.OidcRequestUri:
 *   POST {org}/{project}/_apis/distributedtask/hubs/build/plans/{plan}/jobs/{job}/oidctoken
 *        ?api-version=7.1&serviceConnectionId={id}
 * with Authorization: Bearer {System.AccessToken}. Issues a short-lived token for the service
 * connection, which Entra exchanges (workload identity federation).
 */
export class DevOpsOidc {
  readonly issuer: string;
  readonly subject: string;
  readonly publicKey: crypto.KeyObject;
  private readonly key: string;
  private readonly kid: string;

  constructor(
    private readonly url: string,
    private readonly wi: PersistentState["workloadIdentity"],
    signingKeyPem: string,
    private readonly clock: VirtualClock,
    private readonly lifetimeSec: number,
  ) {
    this.key = signingKeyPem;
    this.publicKey = crypto.createPublicKey(signingKeyPem);
    this.kid = crypto.createHash("sha256").update(this.publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 40).toUpperCase();
    // Real: https://vstoken.dev.azure.com/{organizationId}
    this.issuer = `${url}/vstoken/${wi.organizationId}`;
    // Real: sc://{organization}/{project}/{service connection name}
    this.subject = `sc://${wi.organizationName}/${wi.projectName}/${wi.serviceConnectionName}`;
  }

  /** What SYSTEM_OIDCREQUESTURI holds on an agent running the emulated pipeline. */
  get requestUri(): string {
    const w = this.wi;
    return `${this.url}/${w.organizationName}/${w.projectId}/_apis/distributedtask/hubs/build/plans/${w.planId}/jobs/${w.agentJobId}/oidctoken`;
  }

  handle(ctx: RequestContext): Reply {
    const w = this.wi;
    const p = ctx.params;
    if (p["org"] !== w.organizationName || p["project"] !== w.projectId || p["plan"] !== w.planId || p["job"] !== w.agentJobId)
      return vssError(404, "The requested plan or job was not found.", "TaskOrchestrationPlanNotFoundException");
    if (ctx.method !== "POST") return vssError(405, `The requested resource does not support http method '${ctx.method}'.`, "HttpMethodNotAllowedException");
    if (bearerToken(ctx.headers) !== w.systemAccessToken)
      return vssError(401, "TF400813: The user '' is not authorized to access this resource.", "UnauthorizedRequestException");
    const apiVersion = ctx.query.get("api-version");
    if (!apiVersion)
      return vssError(
        400,
        `No api-version was supplied for the "POST" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
        "VssVersionNotSpecifiedException",
      );
    if (!/^7\.1(-preview(\.1)?)?$/.test(apiVersion))
      return vssError(400, `The requested REST API version of ${apiVersion} is out of range for this server. The latest REST API version this server supports is 7.1.`, "VssVersionOutOfRangeException");
    const sc = ctx.query.get("serviceConnectionId");
    if (!sc) return vssError(400, "Value cannot be null.\r\nParameter name: serviceConnectionId", "ArgumentNullException");
    if (sc.toLowerCase() !== w.serviceConnectionId.toLowerCase())
      return vssError(404, `Service connection with id '${sc}' was not found or you do not have permission to use it.`, "ServiceEndpointNotFoundException");
    const nowSec = Math.floor(this.clock.tokenNow() / 1000);
    const token = signJwt(
      {
        jti: crypto.randomUUID(),
        sub: this.subject,
        aud: TOKEN_EXCHANGE_AUDIENCE,
        org_id: w.organizationId,
        prj_id: w.projectId,
        sc_id: w.serviceConnectionId,
        plan_id: w.planId,
        job_id: w.agentJobId,
        iss: this.issuer,
        nbf: nowSec,
        exp: nowSec + this.lifetimeSec,
        iat: nowSec,
      },
      this.key,
      { typ: "JWT", alg: "RS256", kid: this.kid, x5t: this.kid },
    );
    return { status: 200, json: { oidcToken: token } };
  }
}

/** Azure DevOps' error body. */
export function vssError(status: number, message: string, typeKey: string): Reply {
  return {
    status,
    json: {
      $id: "1",
      innerException: null,
      message,
      typeName: `Microsoft.VisualStudio.Services.${typeKey}, Microsoft.VisualStudio.Services.WebApi`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    },
    headers: { "x-vss-e2eid": crypto.randomUUID(), "activityid": crypto.randomUUID() },
  };
}
