import crypto from "node:crypto";
import type { Reply } from "../http";
import { ArmError } from "./errors";
import type { ApiVersion } from "./topology";

/**
 * Long-running-operation status resources. The POST hands back
 *   {arm}/providers/Microsoft.HDInsight/locations/{LOCATION}/operationStatuses/{guid}*{64 hex}
 *     ?api-version=…&t=…&c=…&s=…&h=…
 * (REAL shape). h is an HMAC over the rest, so a client that rebuilds or edits the URL instead of
 * using it verbatim is refused.
 */
export interface Operation {
  guid: string;
  name: string;
  apiVersion: ApiVersion;
  resourceId: string;
  startedAt: number;
  doneAt: number;
  failure?: { code: string; message: string };
}

export class OperationStore {
  private readonly ops = new Map<string, Operation>();

  constructor(
    private readonly armUrl: string,
    private readonly location: string,
    private readonly hmacKey: string,
  ) {}

  create(apiVersion: ApiVersion, resourceId: string, startedAt: number, durationMs: number, failure?: Operation["failure"]): Operation {
    const guid = crypto.randomUUID();
    const op: Operation = {
      guid,
      name: `${guid}*${crypto.randomBytes(32).toString("hex").toUpperCase()}`,
      apiVersion,
      resourceId,
      startedAt,
      doneAt: startedAt + durationMs,
      ...(failure ? { failure } : {}),
    };
    this.ops.set(op.name.toLowerCase(), op);
    return op;
  }

  path(op: Operation): string {
    return `/providers/Microsoft.HDInsight/locations/${this.location.toUpperCase()}/operationStatuses/${op.name}`;
  }

  /** A freshly signed URL (each poll answer carries a new one, as ARM does). */
  signedUrl(op: Operation): string {
    const path = this.path(op);
    const t = String((BigInt(Date.now()) + 62135596800000n) * 10000n); // .NET ticks, as ARM's t
    const c = crypto.randomBytes(96).toString("base64url");
    const s = crypto.randomBytes(64).toString("base64url");
    const h = this.mac(path, op.apiVersion, t, c, s);
    return `${this.armUrl}${path}?api-version=${op.apiVersion}&t=${t}&c=${c}&s=${s}&h=${h}`;
  }

  /** The operation a polled URL names, or an ArmError when the URL was not one we signed. */
  resolve(path: string, query: URLSearchParams, badSignatureStatus: number): Operation {
    const name = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
    const [v, t, c, s, h] = ["api-version", "t", "c", "s", "h"].map((k) => query.get(k) ?? "");
    const canonicalPath = `/providers/Microsoft.HDInsight/locations/${this.location.toUpperCase()}/operationStatuses/${name}`;
    const expected = this.mac(canonicalPath, v ?? "", t ?? "", c ?? "", s ?? "");
    const given = Buffer.from(h ?? "");
    const want = Buffer.from(expected);
    if (!v || !t || !c || !s || given.length !== want.length || !crypto.timingSafeEqual(given, want))
      throw new ArmError(
        badSignatureStatus,
        "InvalidOperationStatusSignature",
        "The operation status URL is not valid: its signature does not match. Use the Location or Azure-AsyncOperation URL exactly as returned.",
      );
    const op = this.ops.get(name.toLowerCase());
    if (!op) throw new ArmError(404, "OperationNotFound", `The operation '${name}' could not be found.`);
    return op;
  }

  reply(op: Operation, now: number, noStatus = false): Reply {
    const base = { id: this.path(op), name: op.name, resourceId: op.resourceId, startTime: armIso(op.startedAt) };
    // GUESS operationStatus 'noStatus': done, yet 200 with no status, for ever.
    if (noStatus && now >= op.doneAt) return { status: 200, json: base };
    if (now < op.doneAt) {
      const url = this.signedUrl(op);
      return { status: 202, json: { ...base, status: "Accepted" }, headers: { location: url, "azure-asyncoperation": url } };
    }
    if (op.failure)
      return { status: 200, json: { ...base, status: "Failed", endTime: armIso(op.doneAt), error: { code: op.failure.code, message: op.failure.message } } };
    return { status: 200, json: { ...base, status: "Succeeded", endTime: armIso(op.doneAt), properties: { jobStatus: "SUBMITTED" } } };
  }

  private mac(path: string, v: string, t: string, c: string, s: string): string {
    return crypto.createHmac("sha256", this.hmacKey).update(`${path.toLowerCase()}?api-version=${v}&t=${t}&c=${c}&s=${s}`).digest("base64url");
  }
}

/** ARM timestamps carry 7 fractional digits: 2024-05-15T08:25:13.1230000Z. */
export function armIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}
