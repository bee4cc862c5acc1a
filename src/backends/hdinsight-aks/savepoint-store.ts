/**
 * A savepoint's folder in Azure Storage, removed through the Blob API with the service
 * connection's credential (storage scope): HDInsight on AKS has no disposal call of its own.
 * Loaded only when FlinkSavepoint disposes of a savepoint (the storage SDK is heavy).
 */
import { parseJarDirectory } from "../../azure/abfs";
import { containerClient, errorFacts } from "../../azure/jar-upload";
import { blobAccess } from "./blob-jar-store";
import type { JarStorageOptions } from "./jar-storage";
import type { SavepointStore } from "./savepoint-storage";

export function blobSavepointStore(o: JarStorageOptions): SavepointStore {
  const folder = (savepointPath: string, signal: AbortSignal) => {
    const dir = parseJarDirectory(savepointPath, "savepointName");
    const container = containerClient(dir, blobAccess(o, dir.blobServiceUrl, signal), o.logger, "savepointName");
    const fail = (doing: string, e: unknown): Error => {
      const f = errorFacts(e);
      return Object.assign(
        new Error(`Could not ${doing} in container '${dir.container}' of ${dir.account}: ${f.status ?? "no answer"}${f.code ? ` ${f.code}` : ""}${f.message ? ` (${f.message})` : ""}${f.requestId ? ` [x-ms-request-id ${f.requestId}]` : ""}`),
        { code: f.code, requestId: f.requestId },
      );
    };
    return { dir, container, fail };
  };
  return {
    async completedAt(savepointPath: string, signal: AbortSignal): Promise<number | undefined> {
      const { dir, container, fail } = folder(savepointPath, signal);
      let modified: Date | undefined;
      try {
        modified = (await container.getBlobClient(`${dir.directory}/_metadata`).getProperties({ abortSignal: signal })).lastModified;
      } catch (e) {
        if (errorFacts(e).status === 404) return undefined;
        throw fail(`read ${dir.directory}/_metadata`, e);
      }
      if (!modified) throw new Error(`Storage answered for ${dir.directory}/_metadata in container '${dir.container}' of ${dir.account} without a Last-Modified time: the savepoint cannot be dated.`);
      return modified.getTime();
    },
    async removeFolder(savepointPath: string, signal: AbortSignal): Promise<number> {
      const { dir, container, fail } = folder(savepointPath, signal);
      const names: string[] = [];
      try {
        for await (const blob of container.listBlobsFlat({ prefix: `${dir.directory}/`, abortSignal: signal })) names.push(blob.name);
      } catch (e) {
        throw fail(`list ${dir.directory}/`, e);
      }
      // Deepest first: a hierarchical namespace refuses to delete a folder that still holds entries.
      names.sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a));
      const remove = async (name: string) => {
        try {
          await container.deleteBlob(name, { abortSignal: signal });
        } catch (e) {
          if (errorFacts(e).status !== 404) throw fail(`delete ${name}`, e);
        }
      };
      for (const name of names) await remove(name);
      // The folder itself, where the namespace keeps one.
      await remove(dir.directory);
      return names.length;
    },
  };
}
