import { rmSync } from 'node:fs';
import { access, constants, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, parse, relative, resolve } from 'node:path';
import { type Attribution, serializeNpy } from '@xlens/core';
import { buildReport, encodePng, type ReportSpec } from '@xlens/viz';
import { UsageError } from './args.js';

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
 * Check early — before any compute — that the output folder can be (re)placed. Refused: an empty
 * value (an unset `$OUT` in a script), the file-system root, the home folder, the current folder or
 * any folder containing it, a file, and an existing folder that is neither empty nor an earlier
 * xlens output (holding the marker), so `--out ~/Pictures` cannot wipe anything. A new folder's
 * nearest existing ancestor must be a writable folder (`--out /etc/passwd/sub` fails here, not
 * after the compute). Stale temporary folders of interrupted runs next to it are removed.
 */
export async function checkOutDir(dir: string): Promise<void> {
  if (dir.trim() === '')
    throw new UsageError('--out is empty; name the output folder, e.g. --out xlens-report');
  const target = resolve(dir);
  const cwd = process.cwd();
  if (target === parse(target).root) throw new UsageError(`--out ${dir} is the file-system root`);
  if (target === resolve(homedir()))
    throw new UsageError(`--out ${dir} is your home folder; choose a new folder`);
  const rel = relative(target, cwd);
  if (rel === '' || !(rel.startsWith('..') || isAbsolute(rel)))
    throw new UsageError(
      `--out ${dir} is the current folder${rel === '' ? '' : ' or contains it'}; xlens replaces its output folder, so choose a new one`,
    );
  let info: Awaited<ReturnType<typeof stat>> | undefined;
  try {
    info = await stat(target);
  } catch {
    info = undefined;
  }
  if (info) {
    if (!info.isDirectory()) throw new UsageError(`--out ${dir} exists and is not a folder`);
    const names = await readdir(target);
    if (names.length > 0 && !names.includes(MARKER)) {
      throw new UsageError(
        `--out ${dir} is a folder xlens did not write (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); choose an empty or new folder`,
      );
    }
  } else {
    let ancestor = dirname(target);
    for (;;) {
      try {
        const a = await stat(ancestor);
        if (!a.isDirectory()) throw new UsageError(`--out ${dir}: ${ancestor} is not a folder`);
        break;
      } catch (e) {
        if (e instanceof UsageError) throw e;
        const up = dirname(ancestor);
        if (up === ancestor) break;
        ancestor = up;
      }
    }
    try {
      await access(ancestor, constants.W_OK);
    } catch {
      throw new UsageError(`--out ${dir}: cannot write in ${ancestor}`);
    }
  }
  await removeStaleTemps(target);
}

/** Temporary folders of this process, removed if it is interrupted. */
const pendingTemps = new Set<string>();
let signalsHooked = false;

/** On Ctrl-C or a kill, remove this process's half-written folders, then exit as the signal asks. */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const t of pendingTemps) rmSync(t, { recursive: true, force: true });
      process.kill(process.pid, signal);
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `.name.tmp-<pid>-*` / `.name.old-<pid>-*` folders left by runs whose process is gone. */
async function removeStaleTemps(target: string): Promise<void> {
  const parent = dirname(target);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  const prefix = `.${basename(target)}.`;
  for (const name of names) {
    const m = /^\.(?:tmp|old)-(\d+)-/.exec(name.slice(prefix.length - 1));
    if (!name.startsWith(prefix) || !m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && !alive(pid)) await rm(join(parent, name), { recursive: true, force: true });
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
 * `extra` files (other commands' outputs) are written alongside. Returns the files written,
 * relative to `dir`.
 */
export async function writeOutputs(
  dir: string,
  formats: ReadonlySet<FormatName>,
  report: ReportSpec,
  methods: readonly MethodOutput[],
  json: unknown,
  extra: readonly { readonly name: string; readonly content: Uint8Array | string }[] = [],
): Promise<string[]> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  const temp = join(parent, `.${basename(target)}.tmp-${stamp}`);
  const files: string[] = [];
  hookSignals();
  pendingTemps.add(temp);
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
    if (formats.has('npy'))
      for (const m of methods) await put(`${m.key}.npy`, serializeNpy(m.attribution.map));
    if (formats.has('json')) await put('results.json', `${JSON.stringify(json, null, 2)}\n`);
    for (const f of extra) await put(f.name, f.content);
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
  } finally {
    pendingTemps.delete(temp);
  }
  return files;
}
