// A real Flink session cluster whose own REST endpoint demands mutual TLS
// (security.ssl.rest.enabled + security.ssl.rest.authentication-enabled), with keystores made by
// keytool and PEM files for a client: the CA, a trusted client certificate and one it must refuse.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startFlinkCluster, type FlinkCluster, type FlinkClusterOptions } from "../flink/cluster";
import { createServerKeystore, createTruststore } from "../tls/keystore";
import { createTestCa, issueCertificate } from "../tls/pki";

export type MutualTlsFlinkOptions = Omit<FlinkClusterOptions, "restClientTls">;

export interface MutualTlsFlink {
  /** The cluster (its restUrl is https://127.0.0.1:<port>). */
  cluster: FlinkCluster;
  /** https://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** PEM of the CA that signed Flink's REST certificate (and the trusted client certificate). */
  caCertPath: string;
  caCertPem: string;
  /** A client certificate Flink trusts, and its unencrypted PKCS#8 key (PEM). */
  clientCertPath: string;
  clientKeyPath: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** A well-formed client certificate from another CA: Flink refuses it in the handshake. */
  untrustedClientCertPath: string;
  untrustedClientKeyPath: string;
  /** Flink's keystore and truststore (PKCS12, made by keytool) and their password. */
  keystorePath: string;
  truststorePath: string;
  storePassword: string;
  /** Stops Flink and removes the certificates. Idempotent. */
  stop(): Promise<void>;
}

/** The Flink config entries that turn on REST SSL with client authentication. */
export function mutualTlsRestConfig(stores: { keystorePath: string; truststorePath: string; password: string }): Record<string, string | boolean> {
  return {
    "security.ssl.rest.enabled": true,
    "security.ssl.rest.authentication-enabled": true,
    "security.ssl.rest.keystore": stores.keystorePath,
    "security.ssl.rest.keystore-type": "PKCS12",
    "security.ssl.rest.keystore-password": stores.password,
    "security.ssl.rest.key-password": stores.password,
    "security.ssl.rest.truststore": stores.truststorePath,
    "security.ssl.rest.truststore-type": "PKCS12",
    "security.ssl.rest.truststore-password": stores.password,
  };
}

export async function startMutualTlsFlink(options: MutualTlsFlinkOptions): Promise<MutualTlsFlink> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "flink-mtls-"));
  try {
    const ca = await createTestCa(dir, "Flink REST test CA");
    const stranger = await createTestCa(path.join(dir, "stranger"), "Stranger test CA");
    const client = await issueCertificate(ca, dir, { commonName: "flink-rest-client", usage: "client" });
    const untrusted = await issueCertificate(stranger, path.join(dir, "stranger"), { commonName: "stranger-client", usage: "client" });
    const storePassword = randomBytes(12).toString("hex");
    const keystore = await createServerKeystore(ca, dir, {
      alias: "flink-rest",
      commonName: "127.0.0.1",
      altNames: "ip:127.0.0.1,dns:localhost",
      password: storePassword,
    });
    const truststore = await createTruststore(ca, dir, { name: "flink-rest", password: storePassword });
    const cluster = await startFlinkCluster({
      ...options,
      extraConfig: { ...mutualTlsRestConfig({ keystorePath: keystore.path, truststorePath: truststore.path, password: storePassword }), ...options.extraConfig },
      restClientTls: { caCertPem: ca.certPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem },
    });
    let stopped: Promise<void> | undefined;
    return {
      cluster,
      url: cluster.restUrl,
      caCertPath: ca.certPath,
      caCertPem: ca.certPem,
      clientCertPath: client.certPath,
      clientKeyPath: client.keyPath,
      clientCertPem: client.certPem,
      clientKeyPem: client.keyPem,
      untrustedClientCertPath: untrusted.certPath,
      untrustedClientKeyPath: untrusted.keyPath,
      keystorePath: keystore.path,
      truststorePath: truststore.path,
      storePassword,
      stop: () =>
        (stopped ??= (async () => {
          await cluster.stop();
          await fs.rm(dir, { recursive: true, force: true });
        })()),
    };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}
