import { parseJarDirectory } from "../../azure/abfs";
import { type BlobAccess, readJarBlob, restoreJar, TEST_BLOB_ENDPOINT_ENV, uploadJar } from "../../azure/jar-upload";
import { identityProxyFor } from "../../azure/network";
import type { JarStore } from "./deploy";
import type { JarStorageOptions } from "./jar-storage";

/**
 * Jars in Azure Storage through the Blob API, with the connection's credential (storage scope)
 * and the agent's proxy decided for the Blob host itself.
 */
export function blobJarStore(o: JarStorageOptions): JarStore {
  const access = (jobJarDirectory: string, signal: AbortSignal): BlobAccess => blobAccess(o, blobServiceUrlOf(jobJarDirectory), signal);
  return {
    read: (jobJarDirectory, jarName, signal) => readJarBlob({ ...access(jobJarDirectory, signal), jobJarDirectory, jarName, logger: o.logger }),
    upload: (filePath, jobJarDirectory, jarName, overwrite, signal) =>
      uploadJar({ ...access(jobJarDirectory, signal), filePath, jobJarDirectory, jarName, overwrite, logger: o.logger, inputs: { jobJarDirectory: "jobJarDirectory", jarFile: "jarFile" } }),
    restore: (from, jobJarDirectory, jarName, ifMatch, signal) => restoreJar({ ...access(jobJarDirectory, signal), from, jobJarDirectory, jarName, ifMatch, logger: o.logger }),
  };
}

/** How to reach a Blob host with the connection's credential, through the proxy decided for that host. */
export function blobAccess(o: JarStorageOptions, blobServiceUrl: string, signal: AbortSignal): BlobAccess {
  // Test seam only (Azurite): see TEST_BLOB_ENDPOINT_ENV.
  const testBlobEndpoint = process.env[TEST_BLOB_ENDPOINT_ENV]?.trim() || undefined;
  const proxy = identityProxyFor(o.network, testBlobEndpoint ?? blobServiceUrl);
  return {
    credential: o.credential,
    network: { ...(proxy ? { proxy } : {}), ...(o.network.caCertificates ? { caCertificates: o.network.caCertificates } : {}) },
    userAgentPrefix: o.userAgentPrefix,
    signal,
    ...(testBlobEndpoint ? { testBlobEndpoint } : {}),
  };
}

function blobServiceUrlOf(jobJarDirectory: string): string {
  return parseJarDirectory(jobJarDirectory).blobServiceUrl;
}

