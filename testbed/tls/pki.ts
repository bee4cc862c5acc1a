// A throw-away public key infrastructure for the test bed: a CA, server certificates for
// 127.0.0.1 and client certificates, made with the openssl CLI (Debian's), as PEM files in a
// directory the caller owns. Java keystores for Flink are made from these by keystore.ts.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function openssl(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run("openssl", args, { cwd, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface TestCa {
  /** Common name of the CA certificate. */
  name: string;
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface IssuedCertificate {
  /** The leaf certificate alone (PEM). */
  certPath: string;
  /** Its unencrypted PKCS#8 private key (PEM). */
  keyPath: string;
  certPem: string;
  keyPem: string;
}

const DAYS = "30";

/** A self-signed CA (RSA 2048, basicConstraints CA:true) named `name`, in `dir`. */
export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  await fs.mkdir(dir, { recursive: true });
  const base = fileBase(name);
  const keyPath = path.join(dir, `${base}.key.pem`);
  const certPath = path.join(dir, `${base}.cert.pem`);
  await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyPath], dir);
  await openssl(
    ["req", "-x509", "-new", "-key", keyPath, "-sha256", "-days", DAYS, "-subj", `/CN=${name}`, "-out", certPath,
      "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
  return { name, certPath, keyPath, certPem: await fs.readFile(certPath, "utf8") };
}

export interface IssueOptions {
  commonName: string;
  /** "server" adds serverAuth and the subjectAltNames; "client" adds clientAuth. */
  usage: "server" | "client";
  /** subjectAltName entries for a server, e.g. ["IP:127.0.0.1", "DNS:localhost"]. */
  altNames?: string[];
}

/** A leaf certificate signed by `ca`, with its key, in `dir`. */
export async function issueCertificate(ca: TestCa, dir: string, options: IssueOptions): Promise<IssuedCertificate> {
  await fs.mkdir(dir, { recursive: true });
  const base = fileBase(options.commonName);
  const keyPath = path.join(dir, `${base}.key.pem`);
  const csrPath = path.join(dir, `${base}.csr.pem`);
  const certPath = path.join(dir, `${base}.cert.pem`);
  const extPath = path.join(dir, `${base}.ext`);
  const ext = ["basicConstraints=critical,CA:false", "keyUsage=critical,digitalSignature,keyEncipherment"];
  if (options.usage === "server") {
    ext.push("extendedKeyUsage=serverAuth");
    if (options.altNames?.length) ext.push(`subjectAltName=${options.altNames.join(",")}`);
  } else {
    ext.push("extendedKeyUsage=clientAuth");
  }
  await fs.writeFile(extPath, ext.join("\n") + "\n");
  await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyPath], dir);
  await openssl(["req", "-new", "-key", keyPath, "-subj", `/CN=${options.commonName}`, "-out", csrPath], dir);
  await openssl(
    ["x509", "-req", "-in", csrPath, "-CA", ca.certPath, "-CAkey", ca.keyPath, "-CAcreateserial", "-sha256", "-days", DAYS,
      "-extfile", extPath, "-out", certPath],
    dir,
  );
  await fs.rm(csrPath, { force: true });
  return { certPath, keyPath, certPem: await fs.readFile(certPath, "utf8"), keyPem: await fs.readFile(keyPath, "utf8") };
}

/** Every address a test bed server may be reached on (the other-host redirect uses 127.0.0.2). */
export const LOOPBACK_ALT_NAMES = ["IP:127.0.0.1", "IP:127.0.0.2", "DNS:localhost"];

function fileBase(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
}
