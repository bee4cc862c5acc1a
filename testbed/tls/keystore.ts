// Java keystores for Flink's REST SSL, made with the JDK's keytool as Flink's docs do it
// (genkeypair, certreq, sign, importcert), the signing done by the test CA of pki.ts.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { openssl, type TestCa } from "./pki";

const run = promisify(execFile);

async function keytool(args: string[], cwd: string): Promise<void> {
  try {
    await run("keytool", args, { cwd, maxBuffer: 4 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`keytool ${args[0]} failed: ${(e.stdout ?? "") + (e.stderr ?? "") || e.message}`.trim());
  }
}

export interface JavaKeystore {
  path: string;
  /** PKCS12: the store password is also the key password. */
  password: string;
  type: "PKCS12";
}

/**
 * A PKCS12 keystore holding a key pair made by keytool for `commonName`, its certificate signed
 * by `ca` with `altNames` (keytool's SAN syntax, e.g. "ip:127.0.0.1,dns:localhost") and the CA
 * certificate as the chain's root.
 */
export async function createServerKeystore(
  ca: TestCa,
  dir: string,
  options: { alias: string; commonName: string; altNames: string; password: string },
): Promise<JavaKeystore> {
  const keystorePath = path.join(dir, `${options.alias}.keystore.p12`);
  const csrPath = path.join(dir, `${options.alias}.csr.pem`);
  const signedPath = path.join(dir, `${options.alias}.signed.pem`);
  const extPath = path.join(dir, `${options.alias}.ext`);
  const store = ["-keystore", keystorePath, "-storetype", "PKCS12", "-storepass", options.password];
  await keytool(
    ["-genkeypair", "-alias", options.alias, "-keyalg", "RSA", "-keysize", "2048", "-validity", "30",
      "-dname", `CN=${options.commonName}`, "-ext", `SAN=${options.altNames}`, ...store],
    dir,
  );
  await keytool(["-certreq", "-alias", options.alias, "-file", csrPath, ...store], dir);
  // The CSR carries no extensions through openssl x509 -req: restate them.
  const san = options.altNames.split(",").map((entry) => entry.replace(/^ip:/i, "IP:").replace(/^dns:/i, "DNS:")).join(",");
  await fs.writeFile(extPath, `basicConstraints=critical,CA:false\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`);
  await openssl(
    ["x509", "-req", "-in", csrPath, "-CA", ca.certPath, "-CAkey", ca.keyPath, "-CAcreateserial", "-sha256", "-days", "30",
      "-extfile", extPath, "-out", signedPath],
    dir,
  );
  await keytool(["-importcert", "-noprompt", "-trustcacerts", "-alias", "ca", "-file", ca.certPath, ...store], dir);
  await keytool(["-importcert", "-noprompt", "-alias", options.alias, "-file", signedPath, ...store], dir);
  await Promise.all([csrPath, signedPath, extPath].map((file) => fs.rm(file, { force: true })));
  return { path: keystorePath, password: options.password, type: "PKCS12" };
}

/** A PKCS12 truststore that trusts exactly `ca`. */
export async function createTruststore(ca: TestCa, dir: string, options: { name: string; password: string }): Promise<JavaKeystore> {
  const truststorePath = path.join(dir, `${options.name}.truststore.p12`);
  await keytool(
    ["-importcert", "-noprompt", "-alias", "ca", "-file", ca.certPath, "-keystore", truststorePath, "-storetype", "PKCS12",
      "-storepass", options.password],
    dir,
  );
  return { path: truststorePath, password: options.password, type: "PKCS12" };
}
