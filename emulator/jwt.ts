import crypto from "node:crypto";

/** Minimal JWS (compact) helpers on node:crypto: the emulator signs and checks its own tokens. */

export type JwtHeader = Record<string, unknown> & { alg?: string; kid?: string; typ?: string };
export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

export function signJwt(claims: JwtClaims, privateKeyPem: string, header: JwtHeader): string {
  const fullHeader = { alg: "RS256", typ: "JWT", ...header };
  const signingInput = `${b64url(JSON.stringify(fullHeader))}.${b64url(JSON.stringify(claims))}`;
  const key = crypto.createPrivateKey(privateKeyPem);
  const sig =
    fullHeader.alg === "PS256"
      ? crypto.sign("sha256", Buffer.from(signingInput), {
          key,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
          saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
        })
      : crypto.sign("sha256", Buffer.from(signingInput), key);
  return `${signingInput}.${b64url(sig)}`;
}

/** Parses without verifying; undefined when it is not a three-part JWS with JSON parts. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as unknown;
    const claims = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as unknown;
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims, signingInput: `${h}.${c}`, signature: Buffer.from(s, "base64url") };
  } catch {
    return undefined;
  }
}

/** Checks an RS256 or PS256 signature; any other alg (notably "none") fails. */
export function verifyJwtSignature(jwt: DecodedJwt, key: crypto.KeyObject | string): boolean {
  const data = Buffer.from(jwt.signingInput);
  const publicKey = typeof key === "string" ? crypto.createPublicKey(key) : key;
  try {
    if (jwt.header.alg === "RS256") return crypto.verify("sha256", data, publicKey, jwt.signature);
    if (jwt.header.alg === "PS256")
      return crypto.verify(
        "sha256",
        data,
        { key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO },
        jwt.signature,
      );
  } catch {
    return false;
  }
  return false;
}

export function publicJwk(publicKeyPem: string, kid: string, certDerB64?: string): Record<string, unknown> {
  const jwk = crypto.createPublicKey(publicKeyPem).export({ format: "jwk" });
  return { kty: "RSA", use: "sig", kid, x5t: kid, n: jwk.n, e: jwk.e, ...(certDerB64 ? { x5c: [certDerB64] } : {}) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
