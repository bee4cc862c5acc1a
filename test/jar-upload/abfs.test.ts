import assert from "node:assert/strict";
import { InputError } from "../../src/errors";
import { parseJarDirectory } from "../../src/azure/abfs";

describe("abfs[s] jar directory → Blob endpoint", () => {
  const cases: Array<[string, { blobServiceUrl: string; container: string; account: string; directory: string; uri: string }]> = [
    [
      "abfs://flinkdemo125dfsuoi@flinkdemo125stuoi.dfs.core.windows.net/jars",
      { blobServiceUrl: "https://flinkdemo125stuoi.blob.core.windows.net", container: "flinkdemo125dfsuoi", account: "flinkdemo125stuoi", directory: "jars", uri: "abfss://flinkdemo125dfsuoi@flinkdemo125stuoi.dfs.core.windows.net/jars" },
    ],
    ["abfss://c01@acct.dfs.core.chinacloudapi.cn/a/b/", { blobServiceUrl: "https://acct.blob.core.chinacloudapi.cn", container: "c01", account: "acct", directory: "a/b", uri: "abfss://c01@acct.dfs.core.chinacloudapi.cn/a/b" }],
    ["abfss://c01@acct.dfs.core.usgovcloudapi.net/a", { blobServiceUrl: "https://acct.blob.core.usgovcloudapi.net", container: "c01", account: "acct", directory: "a", uri: "abfss://c01@acct.dfs.core.usgovcloudapi.net/a" }],
    ["abfss://c01@acct.z12.dfs.storage.azure.net/a", { blobServiceUrl: "https://acct.z12.blob.storage.azure.net", container: "c01", account: "acct", directory: "a", uri: "abfss://c01@acct.z12.dfs.storage.azure.net/a" }],
    ["ABFSS://c-1@ACCT.DFS.CORE.WINDOWS.NET", { blobServiceUrl: "https://acct.blob.core.windows.net", container: "c-1", account: "acct", directory: "", uri: "abfss://c-1@acct.dfs.core.windows.net" }],
    ["abfs://c01@acct.blob.core.windows.net/x y/%20", { blobServiceUrl: "https://acct.blob.core.windows.net", container: "c01", account: "acct", directory: "x y/%20", uri: "abfss://c01@acct.dfs.core.windows.net/x y/%20" }],
  ];
  for (const [input, expected] of cases) {
    it(input, () => {
      const d = parseJarDirectory(input);
      assert.deepEqual({ blobServiceUrl: d.blobServiceUrl, container: d.container, account: d.account, directory: d.directory, uri: d.uri }, expected);
    });
  }

  it("refusals name the input given", () => {
    for (const bad of ["", "abfs://c--1@acct.dfs.core.windows.net/x", "abfs://ab@acct.dfs.core.windows.net/x", "abfs://c01@acct.dfs.core.windows.net:443/x", "abfs://c01@acct.z12.dfs.core.windows.net/x", "abfs://c01@acct.dfs.core.windows.net/x?y", "abfs://c01@a.dfs.core.windows.net/x"]) {
      assert.throws(() => parseJarDirectory(bad, "myDir"), (e: unknown) => e instanceof InputError && e.input === "myDir" && e.message.startsWith("Input 'myDir': "), bad);
    }
  });
});
