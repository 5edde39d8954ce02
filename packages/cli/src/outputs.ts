import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Attribution } from '@xlens/core';
import { buildReport, encodePng, type ReportSpec } from '@xlens/viz';
import { UsageError } from './args.js';
import { encodeNpy } from './npy.js';

/** Output formats of `xlens explain --format`. */
export const formatNames = ['html', 'png', 'npy', 'json'] as const;
export type FormatName = (typeof formatNames)[number];

/** Parse `--format html,png,npy,json` (default `html,png`). */
export function parseFormats(text: string | undefined): Set<FormatName> {
  const parts = (text ?? 'html,png')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const p of parts) {
    if (!formatNames.includes(p as FormatName))
      throw new UsageError(
        `--format ${JSON.stringify(p)} is unknown; use a comma list of ${formatNames.join(', ')}`,
      );
  }
  if (parts.length === 0)
    throw new UsageError(`--format is empty; use a comma list of ${formatNames.join(', ')}`);
  return new Set(parts as FormatName[]);
}

/** Marker file in every output folder: only folders holding it (or empty ones) are replaced. */
export const MARKER = '.xlens-output';

/**
 * Check early that the output folder can be (re)placed: it must not be a file, and an existing
 * folder must be empty or an earlier xlens output (it holds the marker), so `--out ~/Pictures`
 * cannot wipe anything.
 */
export async function checkOutDir(dir: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch {
    return;
  }
  if (!info.isDirectory()) throw new UsageError(`--out ${dir} exists and is not a folder`);
  const names = await readdir(dir);
  if (names.length > 0 && !names.includes(MARKER)) {
    throw new UsageError(
      `--out ${dir} is a folder xlens did not write (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); choose an empty or new folder`,
    );
  }
}

/** One method's raw result, keyed for file names. */
export interface MethodOutput {
  readonly key: string;
  readonly attribution: Attribution;
}

/**
 * Write the requested formats into a fresh temporary folder next to `dir`, then move it into
 * place (replacing an older `dir`), so an error never leaves a half-written report behind.
 * Returns the files written, relative to `dir`.
 */
export async function writeOutputs(
  dir: string,
  formats: ReadonlySet<FormatName>,
  report: ReportSpec,
  methods: readonly MethodOutput[],
  json: unknown,
): Promise<string[]> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  const temp = join(parent, `.${basename(target)}.tmp-${stamp}`);
  const files: string[] = [];
  try {
    await mkdir(temp);
    const put = async (name: string, bytes: Uint8Array | string): Promise<void> => {
      await writeFile(join(temp, name), bytes);
      files.push(name);
    };
    if (formats.has('html') || formats.has('png')) {
      const embed = !formats.has('png');
      const { html, assets } = buildReport(report, { embed });
      if (formats.has('png')) for (const a of assets) await put(a.file, encodePng(a.image));
      if (formats.has('html')) await put('index.html', html);
    }
    if (formats.has('npy')) for (const m of methods) await put(`${m.key}.npy`, encodeNpy(m.attribution.map));
    if (formats.has('json')) await put('results.json', `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(
      join(temp, MARKER),
      'written by xlens; this folder is replaced by the next run with the same --out\n',
    );
    let old: string | undefined;
    try {
      await stat(target);
      old = join(parent, `.${basename(target)}.old-${stamp}`);
      await rename(target, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      await rename(temp, target);
    } catch (e) {
      if (old) await rename(old, target);
      throw e;
    }
    if (old) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  return files;
}
