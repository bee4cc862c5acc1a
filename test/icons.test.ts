import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inflateSync } from "node:zlib";
import { EXTENSION_ICON_SIZE, renderIcons, TASK_ICON_SIZE, TASK_NAMES } from "../scripts/icons";

const repoRoot = path.resolve(__dirname, "..");

interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** 8-bit RGBA rows, unfiltered; only filled for colour type 6, bit depth 8. */
  rgba?: Buffer;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads IHDR and, for 8-bit RGBA, the pixels. Enough of PNG for these checks; no interlace. */
function readPng(bytes: Buffer): Png {
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), "PNG signature");
  assert.equal(bytes.toString("latin1", 12, 16), "IHDR", "first chunk is IHDR");
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const bitDepth = bytes.readUInt8(24);
  const colorType = bytes.readUInt8(25);
  const interlace = bytes.readUInt8(28);
  const png: Png = { width, height, bitDepth, colorType };
  if (colorType !== 6 || bitDepth !== 8 || interlace !== 0) return png;

  const idat: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    if (type === "IDAT") idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? out[y * stride + x - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? out[(y - 1) * stride + x - 4]! : 0;
      let predictor: number;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`unknown PNG filter ${String(filter)}`);
      }
      out[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  png.rgba = out;
  return png;
}

function alphaStats(png: Png): { opaque: number; transparent: number; total: number } {
  assert.ok(png.rgba, "decodable 8-bit RGBA");
  let opaque = 0;
  let transparent = 0;
  for (let i = 3; i < png.rgba.length; i += 4) {
    if (png.rgba[i] === 255) opaque++;
    if (png.rgba[i] === 0) transparent++;
  }
  return { opaque, transparent, total: png.width * png.height };
}

/**
 * The white glyph on a task icon's badge (the disc centred at 3/4 of the icon), as a 32 px user
 * sees it: how many pixels, its bounding box, and how much of that box it fills.
 */
function badgeGlyph(png: Png): { pixels: number; width: number; height: number; fill: number } {
  assert.ok(png.rgba);
  const centre = (png.width * 96) / 128;
  const radius = (png.width * 27) / 128;
  let pixels = 0;
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      if (Math.hypot(x + 0.5 - centre, y + 0.5 - centre) > radius) continue;
      const i = (y * png.width + x) * 4;
      const [r, g, b, a] = [png.rgba[i]!, png.rgba[i + 1]!, png.rgba[i + 2]!, png.rgba[i + 3]!];
      if (a < 200 || Math.min(r, g, b) < 170) continue;
      pixels++;
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    }
  }
  const [width, height] = [maxX - minX + 1, maxY - minY + 1];
  return { pixels, width, height, fill: pixels / (width * height) };
}

describe("icons: Stop reads as stop at 32 px", function () {
  const icon = (task: string) => readPng(fs.readFileSync(path.join(repoRoot, "tasks", task, "icon.png")));

  it("the Stop badge is a solid square (the stop sign of media controls), not a disk with a shutter, nor the Savepoint's tall bookmark", function () {
    const stop = badgeGlyph(icon("FlinkJobStop"));
    const savepoint = badgeGlyph(icon("FlinkSavepoint"));
    assert.ok(stop.pixels >= 16, `the Stop glyph is ${stop.pixels} pixels`);
    // A floppy disk has a cut corner and a shutter: its box is far from full.
    assert.ok(stop.fill >= 0.9, `the Stop glyph fills ${(stop.fill * 100).toFixed(0)} % of its box`);
    assert.ok(Math.abs(stop.width - stop.height) <= 1, `the Stop glyph is ${stop.width}×${stop.height}`);
    assert.ok(savepoint.height - savepoint.width >= 2 || savepoint.fill < 0.9, `Savepoint ${JSON.stringify(savepoint)} looks like Stop ${JSON.stringify(stop)}`);
  });
});

describe("icons", function () {
  let outRoot: string;
  let written: string[];

  const expected = (): { rel: string; size: number | null }[] => [
    { rel: "images/extension-icon.png", size: EXTENSION_ICON_SIZE },
    ...TASK_NAMES.map((t) => ({ rel: `tasks/${t}/icon.png`, size: TASK_ICON_SIZE })),
    { rel: "images/task-icons-preview.png", size: null },
  ];

  before(async function () {
    outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "flink-icons-"));
    written = await renderIcons(repoRoot, outRoot);
  });

  after(function () {
    fs.rmSync(outRoot, { recursive: true, force: true });
  });

  it("has an SVG source for the extension and for each of the 9 tasks", function () {
    assert.equal(TASK_NAMES.length, 9);
    assert.ok(fs.existsSync(path.join(repoRoot, "images/svg/extension.svg")));
    for (const t of TASK_NAMES) assert.ok(fs.existsSync(path.join(repoRoot, `images/svg/tasks/${t}.svg`)), t);
  });

  it("task SVGs share the extension's base mark and contain no text", function () {
    const markOf = (svg: string): string => {
      const m = /<g id="mark">[\s\S]*?<\/g>/.exec(svg);
      assert.ok(m, "has <g id=\"mark\">");
      return m[0];
    };
    const base = markOf(fs.readFileSync(path.join(repoRoot, "images/svg/extension.svg"), "utf8"));
    for (const t of TASK_NAMES) {
      const svg = fs.readFileSync(path.join(repoRoot, `images/svg/tasks/${t}.svg`), "utf8");
      assert.equal(markOf(svg), base, `${t} uses the same base mark`);
      assert.match(svg, /<g id="badge">/, `${t} has a badge`);
      assert.doesNotMatch(svg, /<text\b/, `${t} has no <text>`);
    }
  });

  it("writes exactly the expected files, and in the task folders only icon.png", function () {
    const rels = written.map((f) => path.relative(outRoot, f).split(path.sep).join("/"));
    assert.deepEqual([...rels].sort(), expected().map((e) => e.rel).sort());
    for (const t of TASK_NAMES) assert.deepEqual(fs.readdirSync(path.join(outRoot, "tasks", t)), ["icon.png"]);
  });

  it("renders PNGs of the exact size, with alpha, neither empty nor fully opaque", function () {
    for (const { rel, size } of expected()) {
      const png = readPng(fs.readFileSync(path.join(outRoot, rel)));
      if (size !== null) {
        assert.equal(png.width, size, `${rel} width`);
        assert.equal(png.height, size, `${rel} height`);
      }
      assert.equal(png.colorType, 6, `${rel} is RGBA (has an alpha channel)`);
      assert.equal(png.bitDepth, 8, `${rel} bit depth`);
      if (size === null) continue; // the preview is opaque panels by design
      const { opaque, transparent, total } = alphaStats(png);
      assert.ok(opaque > total / 2, `${rel}: mostly drawn (${opaque}/${total} opaque pixels)`);
      assert.ok(transparent > 0, `${rel}: rounded corners are transparent`);
    }
  });

  it("preview sheet shows every icon at 2×", function () {
    const png = readPng(fs.readFileSync(path.join(outRoot, "images/task-icons-preview.png")));
    assert.ok(png.width >= EXTENSION_ICON_SIZE * 2 + 4 * TASK_ICON_SIZE * 2, `width ${png.width}`);
    assert.ok(png.height >= EXTENSION_ICON_SIZE * 2 * 2, `height ${png.height}`);
  });

  it("the 8 task icons are pairwise different", function () {
    const pixels = TASK_NAMES.map((t) => readPng(fs.readFileSync(path.join(outRoot, "tasks", t, "icon.png"))).rgba!);
    for (let i = 0; i < pixels.length; i++) {
      for (let j = i + 1; j < pixels.length; j++) {
        let differing = 0;
        for (let p = 0; p < pixels[i]!.length; p += 4) {
          if (!pixels[i]!.subarray(p, p + 4).equals(pixels[j]!.subarray(p, p + 4))) differing++;
        }
        // The badge is about a quarter of the icon; demand a visible difference, not a stray pixel.
        assert.ok(differing >= 40, `${TASK_NAMES[i]} vs ${TASK_NAMES[j]}: only ${differing} pixels differ`);
      }
    }
  });

  it("rendering is deterministic", async function () {
    const again = fs.mkdtempSync(path.join(os.tmpdir(), "flink-icons-"));
    try {
      await renderIcons(repoRoot, again);
      for (const { rel } of expected()) {
        assert.ok(fs.readFileSync(path.join(again, rel)).equals(fs.readFileSync(path.join(outRoot, rel))), rel);
      }
    } finally {
      fs.rmSync(again, { recursive: true, force: true });
    }
  });

  it("committed PNGs match a fresh render (run `npx tsx scripts/icons.ts` after editing an SVG)", function () {
    for (const { rel } of expected()) {
      const committed = path.join(repoRoot, rel);
      assert.ok(fs.existsSync(committed), `${rel} is missing; run npx tsx scripts/icons.ts`);
      assert.ok(
        fs.readFileSync(committed).equals(fs.readFileSync(path.join(outRoot, rel))),
        `${rel} is stale; run npx tsx scripts/icons.ts`,
      );
    }
  });
});
