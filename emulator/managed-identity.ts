import crypto from "node:crypto";
import type { EntraId } from "./entra";
import type { Reply, RequestContext } from "./http";
import type { PersistentState } from "./state-dir";

/**
 * A managed identity endpoint in the App Service shape (api-version 2019-08-01), which
 * msal-node (inside @azure/identity's ManagedIdentityCredential) uses when IDENTITY_ENDPOINT and
 * IDENTITY_HEADER are set: GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…[&client_id=…]
 * with header X-IDENTITY-HEADER.
 */
export class ManagedIdentityEndpoint {
  constructor(
    private readonly url: string,
    private readonly mi: PersistentState["managedIdentity"],
    private readonly entra: EntraId,
  ) {}

  get endpoint(): string {
    return `${this.url}/msi/token`;
  }

  /** Environment that points ManagedIdentityCredential here (App Service source in msal-node). */
  get env(): Record<string, string> {
    return { IDENTITY_ENDPOINT: this.endpoint, IDENTITY_HEADER: this.mi.identityHeader };
  }

  handle(ctx: RequestContext): Reply {
    const err = (status: number, message: string): Reply => ({
      status,
      json: { statusCode: status, message, correlationId: crypto.randomUUID() },
    });
    if (ctx.method !== "GET") return err(405, `The requested resource does not support http method '${ctx.method}'.`);
    if (ctx.headers["x-identity-header"] !== this.mi.identityHeader) return err(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.");
    const apiVersion = ctx.query.get("api-version");
    if (apiVersion !== "2019-08-01") return err(400, `The api-version '${apiVersion ?? ""}' is not supported. Supported: 2019-08-01.`);
    const resource = ctx.query.get("resource");
    if (!resource) return err(400, "The 'resource' query parameter is required.");
    const ids: Array<[string, string]> = [
      ["client_id", this.mi.clientId],
      ["object_id", this.mi.objectId],
      ["principal_id", this.mi.objectId],
    ];
    for (const [param, expected] of ids) {
      const v = ctx.query.get(param);
      if (v !== null && v.toLowerCase() !== expected.toLowerCase()) return err(400, "Unable to load the proper Managed Identity.");
    }
    if (ctx.query.get("mi_res_id") !== null) return err(400, "Unable to load the proper Managed Identity.");
    const unknown = this.entra.checkResource(resource);
    if (unknown) return err(400, unknown);
    const t = this.entra.issueAccessToken(resource, { appId: this.mi.clientId, objectId: this.mi.objectId, appidacr: "2" });
    return {
      status: 200,
      json: {
        access_token: t.accessToken,
        expires_on: String(t.expiresOnRealSec),
        resource,
        token_type: "Bearer",
        client_id: this.mi.clientId,
      },
    };
  }
}
