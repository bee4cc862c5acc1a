/** The package size is stated once (docs/performance.md, generated), and npm run package prints it in the same form. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { vsixSize } from "../scripts/bench/report";
import { packageSummary } from "../scripts/package";
import { tempDir } from "./harness/temp";

const root = path.resolve(__dirname, "..");

describe("package size: one figure, generated", () => {
  it("README states no size of its own and points to docs/performance.md", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    assert.doesNotMatch(readme, /\d+(\.\d+)?\s*(MiB|MB|KiB|KB)\b/, "README states a size figure");
    assert.match(readme.split(/^## Package size$/m)[1] ?? "", /\[docs\/performance\.md\]\(docs\/performance\.md\)/);
  });

  it("docs/performance.md's .vsix row is vsixSize() of the bytes it reports", () => {
    const doc = fs.readFileSync(path.join(root, "docs", "performance.md"), "utf8");
    const bytes = Number(/The \.vsix \(.*?\) is ([\d,]+) bytes/.exec(doc)?.[1]?.replace(/,/g, ""));
    assert.ok(bytes > 0, "docs/performance.md reports the .vsix in bytes");
    assert.ok(doc.includes(`| .vsix, all nine tasks | ${vsixSize(bytes)} |`), `the row does not read ${vsixSize(bytes)}`);
  });

  it("npm run package prints the size in that same form", () => {
    const file = path.join(tempDir("vsix-"), "x.vsix");
    fs.writeFileSync(file, Buffer.alloc(1_951_435));
    assert.ok(packageSummary(file).endsWith(": 1.95 MB (7.4 % of the 25 MiB Marketplace limit)"), packageSummary(file));
  });
});
