import crypto from "node:crypto";
import { generate } from "selfsigned";

/** Certificates the emulator needs: a CA that clients trust, the HTTPS leaf it signs, and the
 * service principal's client certificate (registered with the emulated Entra ID). */
export interface TlsMaterial {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

const YEARS = 5;

function validity(): { notBeforeDate: Date; notAfterDate: Date } {
  // A little in the past so a client whose clock lags a few minutes still accepts it.
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + YEARS * 365 * 24 * 3600 * 1000);
  return { notBeforeDate, notAfterDate };
}

export async function generateTlsMaterial(): Promise<TlsMaterial> {
  const ca = await generate([{ name: "commonName", value: "Flink Jobs Emulator Local CA" }], {
    keySize: 2048,
    algorithm: "sha256",
    ...validity(),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      // The CA is also valid for the loopback names so NODE_EXTRA_CA_CERTS=ca.pem works even for
      // clients that pin the leaf.
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const leaf = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    ...validity(),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, { type: 7, ip: "::1" }],
      },
    ],
  });
  return { caCertPem: ca.cert, caKeyPem: ca.private, serverCertPem: leaf.cert, serverKeyPem: leaf.private };
}

/** Self-signed RSA certificate for ClientCertificateCredential. */
export async function generateClientCertificate(cn: string): Promise<{ certPem: string; keyPem: string }> {
  const pems = await generate([{ name: "commonName", value: cn }], {
    keySize: 2048,
    algorithm: "sha256",
    ...validity(),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

export function certDer(certPem: string): Buffer {
  return new crypto.X509Certificate(certPem).raw;
}

/** x5t (SHA-1) and x5t#S256 thumbprints, base64url, as they appear in JWT headers. */
export function thumbprints(certPem: string): { x5t: string; x5tS256: string } {
  const der = certDer(certPem);
  return {
    x5t: crypto.createHash("sha1").update(der).digest("base64url"),
    x5tS256: crypto.createHash("sha256").update(der).digest("base64url"),
  };
}

export function certValidTo(certPem: string): number {
  return new Date(new crypto.X509Certificate(certPem).validTo).getTime();
}
