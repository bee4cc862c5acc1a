import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { certValidTo, generateClientCertificate, generateTlsMaterial, type TlsMaterial } from "./tls";

/**
 * Everything the emulator must keep across restarts so a service connection configured once
 * keeps working: identities, secrets, signing keys and certificates. Stored as one JSON file
 * created atomically (link() fails if it exists), so emulators started concurrently against the
 * same directory agree on one set.
 */
export interface PersistentState {
  version: 1;
  tenantId: string;
  subscriptionId: string;
  servicePrincipal: { clientId: string; objectId: string; clientSecret: string; certPem: string; keyPem: string };
  workloadIdentity: {
    clientId: string;
    objectId: string;
    serviceConnectionId: string;
    serviceConnectionName: string;
    organizationName: string;
    organizationId: string;
    projectId: string;
    projectName: string;
    planId: string;
    agentJobId: string;
    systemAccessToken: string;
  };
  managedIdentity: { clientId: string; objectId: string; identityHeader: string };
  entraSigningKeyPem: string;
  devopsSigningKeyPem: string;
  operationHmacKey: string;
  tls: TlsMaterial;
}

export interface StateFiles {
  state: PersistentState;
  caCertPath: string;
  servicePrincipalCertPath: string;
}

const FILE = "state.json";

export async function loadOrCreateState(stateDir: string): Promise<StateFiles> {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, FILE);
  let state = readState(file);
  if (!state) {
    const fresh = await createState();
    const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(fresh, null, 2), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
      state = fresh;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      state = readState(file);
      if (!state) throw new Error(`${file} exists but cannot be read; delete it to regenerate`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const caCertPath = path.join(stateDir, "ca.pem");
  const servicePrincipalCertPath = path.join(stateDir, "service-principal.pem");
  writeIfChanged(caCertPath, state.tls.caCertPem);
  // Key then certificate in one PEM: the form the AzureRM service connection stores.
  writeIfChanged(servicePrincipalCertPath, state.servicePrincipal.keyPem.trim() + "\n" + state.servicePrincipal.certPem.trim() + "\n");
  return { state, caCertPath, servicePrincipalCertPath };
}

function readState(file: string): PersistentState | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(raw) as PersistentState;
  if (parsed.version !== 1) return undefined;
  // Regenerate rather than serve an expired certificate.
  const soon = Date.now() + 7 * 24 * 3600 * 1000;
  if (certValidTo(parsed.tls.serverCertPem) < soon || certValidTo(parsed.servicePrincipal.certPem) < soon) {
    fs.rmSync(file, { force: true });
    return undefined;
  }
  return parsed;
}

function writeIfChanged(file: string, content: string): void {
  try {
    if (fs.readFileSync(file, "utf8") === content) return;
  } catch {
    /* absent */
  }
  const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function rsaKeyPem(): string {
  return crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function secret(bytes: number): string {
  return crypto.randomBytes(bytes).toString("base64url");
}

async function createState(): Promise<PersistentState> {
  const [tls, spCert] = await Promise.all([generateTlsMaterial(), generateClientCertificate("flink-jobs-emulator-sp")]);
  return {
    version: 1,
    tenantId: crypto.randomUUID(),
    subscriptionId: crypto.randomUUID(),
    servicePrincipal: {
      clientId: crypto.randomUUID(),
      objectId: crypto.randomUUID(),
      // Entra secrets look like "abc8Q~…" (40 chars); shape kept so log-masking code sees the real thing.
      clientSecret: `${secret(3).slice(0, 3)}8Q~${secret(32).slice(0, 34)}`,
      certPem: spCert.certPem,
      keyPem: spCert.keyPem,
    },
    workloadIdentity: {
      clientId: crypto.randomUUID(),
      objectId: crypto.randomUUID(),
      serviceConnectionId: crypto.randomUUID(),
      serviceConnectionName: "flink-emulator-wif",
      organizationName: "emulator-org",
      organizationId: crypto.randomUUID(),
      projectId: crypto.randomUUID(),
      projectName: "flink-project",
      planId: crypto.randomUUID(),
      agentJobId: crypto.randomUUID(),
      systemAccessToken: secret(48),
    },
    managedIdentity: { clientId: crypto.randomUUID(), objectId: crypto.randomUUID(), identityHeader: crypto.randomUUID() },
    entraSigningKeyPem: rsaKeyPem(),
    devopsSigningKeyPem: rsaKeyPem(),
    operationHmacKey: secret(32),
    tls,
  };
}
