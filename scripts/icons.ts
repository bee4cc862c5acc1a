/**
 * Renders the extension's PNG icons from the hand-written SVG sources in images/svg:
 *
 *   images/svg/extension.svg        -> images/extension-icon.png (128×128)
 *   images/svg/tasks/<Task>.svg     -> tasks/<Task>/icon.png     (32×32)
 *   all of the above, at 2×         -> images/task-icons-preview.png (contact sheet, not shipped)
 *
 * Run `npx tsx scripts/icons.ts` after changing an SVG; test/icons.test.ts fails while the
 * committed PNGs differ from a fresh render. The output is deterministic: no fonts, no system
 * state, no timestamps, so the same SVGs give the same bytes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Resvg } from "@resvg/resvg-js";

/** The pipeline tasks, in the order the preview sheet shows them. */
export const TASK_NAMES = [
  "FlinkJobSubmit",
  "FlinkJobStop",
  "FlinkJobStart",
  "FlinkJobUpdate",
  "FlinkSavepoint",
  "FlinkJobCancel",
  "FlinkJobDelete",
  "FlinkJobStatus",
  "FlinkJobDeploy",
] as const;

export const EXTENSION_ICON_SIZE = 128;
export const TASK_ICON_SIZE = 32;
/** The preview shows every icon at twice its shipped size. */
export const PREVIEW_SCALE = 2;

/** Renders an SVG document to PNG bytes, scaled so that it is `width` pixels wide. */
export function renderSvg(svg: string, width: number): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "width", value: width },
    // The icons hold no text; leaving system fonts out keeps the result machine-independent.
    font: { loadSystemFonts: false },
    background: "rgba(0,0,0,0)",
  });
  return Buffer.from(resvg.render().asPng());
}

function dataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString("base64")}`;
}

/**
 * The contact sheet: the extension icon, then the eight task icons, once on a light and once
 * on a dark panel (Azure DevOps has both themes). Images sit at whole-pixel positions at
 * their natural size, so nothing is resampled.
 */
function previewSvg(extensionPng: Buffer, taskPngs: Buffer[]): string {
  const pad = 24;
  const ext = EXTENSION_ICON_SIZE * PREVIEW_SCALE; // 256
  const task = TASK_ICON_SIZE * PREVIEW_SCALE; // 64
  const gap = 24;
  const columns = 4;
  const rowsOfTasks = Math.ceil(taskPngs.length / columns);
  const tasksWidth = columns * task + (columns - 1) * gap;
  const panelWidth = pad + ext + pad + tasksWidth + pad;
  const panelHeight = pad + Math.max(ext, rowsOfTasks * task + (rowsOfTasks - 1) * gap) + pad;
  const panels = [
    { fill: "#ffffff", y: 0 },
    { fill: "#1e1e1e", y: panelHeight },
  ];
  const parts: string[] = [];
  for (const panel of panels) {
    parts.push(`<rect x="0" y="${panel.y}" width="${panelWidth}" height="${panelHeight}" fill="${panel.fill}"/>`);
    parts.push(
      `<image x="${pad}" y="${panel.y + pad}" width="${ext}" height="${ext}" href="${dataUri(extensionPng)}"/>`,
    );
    const tasksTop = panel.y + pad + Math.floor((ext - (rowsOfTasks * task + (rowsOfTasks - 1) * gap)) / 2);
    taskPngs.forEach((png, i) => {
      const x = pad + ext + pad + (i % columns) * (task + gap);
      const y = tasksTop + Math.floor(i / columns) * (task + gap);
      parts.push(`<image x="${x}" y="${y}" width="${task}" height="${task}" href="${dataUri(png)}"/>`);
    });
  }
  const width = panelWidth;
  const height = panelHeight * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...parts,
    `</svg>`,
  ].join("\n");
}

function write(file: string, bytes: Buffer, written: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  written.push(file);
}

/**
 * Reads the SVGs under `<root>/images/svg` and writes the PNGs under `outRoot` (default: the
 * same root): `images/extension-icon.png`, `tasks/<Task>/icon.png` (only that file in each task
 * folder) and `images/task-icons-preview.png`. Returns the written paths.
 */
export async function renderIcons(root: string, outRoot: string = root): Promise<string[]> {
  const svgDir = path.join(root, "images", "svg");
  const written: string[] = [];

  const extensionSvg = await fs.promises.readFile(path.join(svgDir, "extension.svg"), "utf8");
  const extensionPng = renderSvg(extensionSvg, EXTENSION_ICON_SIZE);
  write(path.join(outRoot, "images", "extension-icon.png"), extensionPng, written);

  const previewTaskPngs: Buffer[] = [];
  for (const task of TASK_NAMES) {
    const svg = await fs.promises.readFile(path.join(svgDir, "tasks", `${task}.svg`), "utf8");
    write(path.join(outRoot, "tasks", task, "icon.png"), renderSvg(svg, TASK_ICON_SIZE), written);
    previewTaskPngs.push(renderSvg(svg, TASK_ICON_SIZE * PREVIEW_SCALE));
  }

  const sheet = previewSvg(renderSvg(extensionSvg, EXTENSION_ICON_SIZE * PREVIEW_SCALE), previewTaskPngs);
  const sheetWidth = Number(/width="(\d+)"/.exec(sheet)?.[1]);
  write(path.join(outRoot, "images", "task-icons-preview.png"), renderSvg(sheet, sheetWidth), written);

  return written;
}

if (require.main === module) {
  renderIcons(path.resolve(__dirname, "..")).then(
    (written) => {
      for (const file of written) console.log(`wrote ${path.relative(process.cwd(), file)}`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
