/**
 * @xlens/viz/node — the Node-only part of viz: writing PNG files and report folders. Everything
 * else in viz runs in browsers too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RgbaImage } from './image.js';
import { encodePng } from './png.js';
import { type BuildReportOptions, buildReport, type ReportSpec } from './report.js';

/** Write an image as a PNG file. */
export async function writePng(path: string, image: RgbaImage): Promise<void> {
  await writeFile(path, encodePng(image));
}

/**
 * Write `index.html` into `dir` (created if needed). With `embed: false` (the default here) every
 * image is also written as a PNG next to it and the HTML links them by relative name; with
 * `embed: true` the HTML alone is self-contained. Returns the paths written.
 */
export async function writeReport(
  dir: string,
  spec: ReportSpec,
  options: BuildReportOptions = {},
): Promise<string[]> {
  const embed = options.embed ?? false;
  const { html, assets } = buildReport(spec, { embed });
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  if (!embed) {
    for (const a of assets) {
      const path = join(dir, a.file);
      await writePng(path, a.image);
      written.push(path);
    }
  }
  const index = join(dir, 'index.html');
  await writeFile(index, html);
  written.push(index);
  return written;
}
