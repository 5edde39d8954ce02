import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  type Box,
  InputError,
  type ModelInfo,
  parseNpy,
  parseNpz,
  type Tensor,
  toChannelsFirst,
} from '@xlens/core';
import { mnistSamples, SAMPLE_SEED, shapesDataset, shortcutDataset } from '@xlens/zoo';
import type { DatasetRef } from './plan.js';

/** Image files a folder data set reads, by extension. */
const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff']);

/** One item of a range that could not be read, and why. */
export interface ItemError {
  readonly item: number;
  readonly name: string;
  readonly error: string;
}

/** The readable items of a range, as one model-ready batch. */
export interface ItemBatch {
  /** Batch `K×inputShape` in the model's layout (K readable items), or null when none is readable. */
  readonly tensor: Tensor | null;
  /** Item index (in the data set) and name of each batch row. */
  readonly items: readonly { readonly item: number; readonly name: string }[];
  /** Class label per row, where the data set has one (else -1). */
  readonly labels: readonly number[];
  /** Ground truth per row when the data set has it for every readable item. */
  readonly masks?: Tensor;
  readonly boxes?: readonly Box[];
  readonly errors: readonly ItemError[];
}

function listImages(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new InputError('invalid-input', `data set folder ${dir} is unreadable: ${(e as Error).message}`);
  }
  const files = names.filter((n) => imageExtensions.has(extname(n).toLowerCase())).sort();
  if (files.length === 0)
    throw new InputError('invalid-input', `data set folder ${dir} holds no image files`);
  return files;
}

/** Labels file of an image folder: per file name, an optional class and box. */
type LabelsFile = Record<string, { label?: number; box?: Box }>;

function readLabelsFile(path: string): LabelsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(
      'invalid-input',
      `labels file ${path} is unreadable or not JSON: ${(e as Error).message}`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InputError('invalid-input', `labels file ${path} must hold an object keyed by file name`);
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = v as { label?: unknown; box?: unknown };
    const okLabel = entry.label === undefined || Number.isInteger(entry.label);
    const okBox =
      entry.box === undefined ||
      (Array.isArray(entry.box) && entry.box.length === 4 && entry.box.every((x) => Number.isFinite(x)));
    if (!entry || typeof entry !== 'object' || !okLabel || !okBox)
      throw new InputError(
        'invalid-input',
        `labels file ${path}: entry ${JSON.stringify(name)} must be { "label": integer, "box": [x0, y0, x1, y1] }`,
      );
  }
  return parsed as LabelsFile;
}

/** What a `.npy` header says, and where its data starts. */
interface NpyHeader {
  readonly descr: string;
  readonly shape: number[];
  readonly dataOffset: number;
  readonly itemBytes: number;
}

/** Read only the header of a `.npy` file (no data), so that counting items reads a few bytes. */
function readNpyHeader(path: string): NpyHeader {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(12);
    readSync(fd, head, 0, 12, 0);
    if (head.subarray(0, 6).toString('latin1') !== '\x93NUMPY')
      throw new InputError('invalid-file', `${path} is not a .npy file`);
    const major = head[6];
    const len = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const text = Buffer.alloc(len);
    readSync(fd, text, 0, len, start);
    const h = text.toString('latin1');
    const descr = /'descr':\s*'([^']+)'/.exec(h)?.[1];
    const shapeText = /'shape':\s*\(([^)]*)\)/.exec(h)?.[1];
    if (!descr || shapeText === undefined || /'fortran_order':\s*True/.test(h))
      throw new InputError('invalid-file', `${path}: unsupported .npy header ${h.trim()}`);
    const shape = shapeText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
    const size = Number(/\d+$/.exec(descr)?.[0] ?? Number.NaN);
    if (shape.length < 1 || !Number.isFinite(size))
      throw new InputError('invalid-file', `${path}: a shard needs an item axis and a numeric dtype`);
    return {
      descr,
      shape,
      dataOffset: start + len,
      itemBytes: size * shape.slice(1).reduce((a, b) => a * b, 1),
    };
  } finally {
    closeSync(fd);
  }
}

/** Rows `[a, b)` of a `.npy` shard, reading only their bytes, parsed by core's `.npy` reader. */
function readNpyRows(path: string, header: NpyHeader, a: number, b: number): Tensor {
  const shape = [b - a, ...header.shape.slice(1)];
  let dict = `{'descr': '${header.descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  dict += ' '.repeat(64 - ((10 + dict.length + 1) % 64 || 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(dict.length, 8);
  const body = Buffer.alloc((b - a) * header.itemBytes);
  const fd = openSync(path, 'r');
  try {
    const got = readSync(fd, body, 0, body.length, header.dataOffset + a * header.itemBytes);
    if (got !== body.length) throw new InputError('invalid-file', `${path} is truncated (rows ${a}..${b})`);
  } finally {
    closeSync(fd);
  }
  return parseNpy(new Uint8Array(Buffer.concat([pre, Buffer.from(dict, 'latin1'), body])), path);
}

/** A parsed `.npz` shard, kept while a worker reads consecutive ranges of it. */
let npzCache: { path: string; arrays: Record<string, Tensor> } | undefined;

async function readNpz(path: string): Promise<Record<string, Tensor>> {
  if (npzCache?.path !== path) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new InputError('invalid-file', `shard ${path} is unreadable: ${(e as Error).message}`);
    }
    const arrays = await parseNpz(bytes, path);
    if (!arrays.x) throw new InputError('invalid-file', `shard ${path} has no array "x" (the inputs)`);
    npzCache = { path, arrays };
  }
  return npzCache.arrays;
}

/** Shard item counts already read by this worker, by file list (a shard is counted once). */
const countsCache = new Map<string, number[]>();

/** Item count of each shard of an `arrays` data set. */
async function shardCounts(files: readonly string[]): Promise<number[]> {
  const key = files.join('\0');
  const known = countsCache.get(key);
  if (known) return known;
  const counts: number[] = [];
  for (const f of files) {
    if (extname(f).toLowerCase() === '.npz') counts.push((await readNpz(f)).x.shape[0]);
    else if (extname(f).toLowerCase() === '.npy') counts.push(readNpyHeader(f).shape[0]);
    else throw new InputError('invalid-input', `shard ${f} is neither .npy nor .npz`);
  }
  countsCache.set(key, counts);
  return counts;
}

/** Number of items in a data set. */
export async function datasetSize(ref: DatasetRef): Promise<number> {
  switch (ref.kind) {
    case 'zoo':
      return ref.count;
    case 'images':
      return listImages(ref.dir).length;
    case 'arrays':
      return (await shardCounts(ref.files)).reduce((a, b) => a + b, 0);
  }
}

/**
 * A fingerprint of a data set every worker must reproduce: for files, a SHA-256 over the names and
 * sizes of the items (and the labels file's bytes), so that a worker mounting a different copy is
 * refused without reading every item twice.
 */
export async function datasetFingerprint(ref: DatasetRef): Promise<string> {
  const hash = createHash('sha256');
  if (ref.kind === 'zoo') hash.update(`zoo:${ref.name}:${ref.count}:${SAMPLE_SEED}`);
  else if (ref.kind === 'images') {
    for (const f of listImages(ref.dir)) hash.update(`${f}\0${statSync(join(ref.dir, f)).size}\0`);
    if (ref.labels !== undefined) hash.update(readFileSync(ref.labels));
  } else {
    const counts = await shardCounts(ref.files);
    ref.files.forEach((f, i) => {
      hash.update(`${basename(f)}\0${statSync(f).size}\0${counts[i]}\0`);
    });
  }
  return hash.digest('hex');
}

const itemName = (i: number, count: number, cls: string): string =>
  `${String(i).padStart(Math.max(2, String(count - 1).length), '0')}-${cls}`;

/** Rows of an NHWC batch in the model's layout. */
const toModelLayout = (t: Tensor, info: ModelInfo): Tensor =>
  info.layout === 'NCHW' ? toChannelsFirst(t) : t;

function sameItemShape(source: string, shape: readonly number[], info: ModelInfo): void {
  const want = info.inputShape;
  if (shape.length !== want.length || shape.some((d, k) => d !== want[k]))
    throw new InputError(
      'invalid-input',
      `${source}: items of shape [${shape.join(', ')}], but ${info.name} takes [${want.join(', ')}]`,
    );
}

/** Decode one image to the model's input size, values pixel/255, in NHWC order. */
async function decodeImage(path: string, info: ModelInfo): Promise<Float32Array> {
  const nhwc = info.layout === 'NHWC';
  const [h, w, c] = nhwc ? info.inputShape : [info.inputShape[1], info.inputShape[2], info.inputShape[0]];
  const sharp = (await import('sharp')).default;
  const pipeline = sharp(readFileSync(path), { failOn: 'error' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(w, h, { fit: 'cover' });
  const raw = await (c === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb'))
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (raw.info.channels !== c) throw new Error(`decoded ${raw.info.channels} channels, the model takes ${c}`);
  return Float32Array.from(raw.data, (v) => v / 255);
}

/**
 * Read items `[start, end)` of a data set for a model: only those items (a zoo range is generated,
 * a `.npy` shard read at an offset, a `.npz` shard parsed once per worker). An item that cannot be
 * read is listed in `errors` and left out of the batch; the others are returned.
 */
export async function readItems(
  ref: DatasetRef,
  start: number,
  end: number,
  info: ModelInfo,
): Promise<ItemBatch> {
  const count = end - start;
  if (ref.kind === 'zoo') {
    if (ref.name === 'mnist') {
      // mnist draws without replacement from a seeded shuffle: the first `end` draws hold the range.
      const s = mnistSamples(end, SAMPLE_SEED);
      const per = s.images.shape.slice(1).reduce((a, b) => a * b, 1);
      const images = {
        data: s.images.data.slice(start * per, end * per),
        shape: [count, ...s.images.shape.slice(1)],
      };
      const tensor = toModelLayout(images, info);
      sameItemShape('mnist', tensor.shape.slice(1), info);
      const labels = Array.from(s.labels.subarray(start, end));
      return {
        tensor,
        items: labels.map((l, k) => ({
          item: start + k,
          name: itemName(start + k, ref.count, s.classNames[l]),
        })),
        labels,
        errors: [],
      };
    }
    const d =
      ref.name === 'shapes'
        ? shapesDataset({ count, seed: SAMPLE_SEED, start })
        : shortcutDataset({ count, seed: SAMPLE_SEED, start });
    const tensor = toModelLayout(d.images, info);
    sameItemShape(ref.name, tensor.shape.slice(1), info);
    const labels = Array.from(d.labels);
    return {
      tensor,
      items: labels.map((l, k) => ({
        item: start + k,
        name: itemName(start + k, ref.count, d.classNames[l]),
      })),
      labels,
      masks: d.masks,
      boxes: d.boxes,
      errors: [],
    };
  }
  if (ref.kind === 'images') {
    const files = listImages(ref.dir).slice(start, end);
    const labelsFile = ref.labels !== undefined ? readLabelsFile(ref.labels) : undefined;
    const rows: Float32Array[] = [];
    const items: { item: number; name: string }[] = [];
    const labels: number[] = [];
    const boxes: Box[] = [];
    const errors: ItemError[] = [];
    for (const [k, f] of files.entries()) {
      try {
        rows.push(await decodeImage(join(ref.dir, f), info));
      } catch (e) {
        errors.push({
          item: start + k,
          name: f,
          error: `unreadable image: ${(e as Error).message.split('\n')[0]}`,
        });
        continue;
      }
      items.push({ item: start + k, name: f });
      labels.push(labelsFile?.[f]?.label ?? -1);
      const box = labelsFile?.[f]?.box;
      if (box) boxes.push(box);
    }
    if (rows.length === 0) return { tensor: null, items, labels, errors };
    const nhwc = info.layout === 'NHWC';
    const itemShape = nhwc ? info.inputShape : [info.inputShape[1], info.inputShape[2], info.inputShape[0]];
    const data = new Float32Array(rows.length * rows[0].length);
    rows.forEach((r, k) => {
      data.set(r, k * r.length);
    });
    return {
      tensor: toModelLayout({ data, shape: [rows.length, ...itemShape] }, info),
      items,
      labels,
      ...(boxes.length === rows.length ? { boxes } : {}),
      errors,
    };
  }
  // arrays: walk the shards overlapping the range.
  const counts = await shardCounts(ref.files);
  const parts: Tensor[] = [];
  const items: { item: number; name: string }[] = [];
  const labels: number[] = [];
  const masks: Tensor[] = [];
  const errors: ItemError[] = [];
  let offset = 0;
  for (const [s, file] of ref.files.entries()) {
    const a = Math.max(start, offset);
    const b = Math.min(end, offset + counts[s]);
    if (a < b) {
      const names = Array.from({ length: b - a }, (_, k) => `${basename(file)}#${a - offset + k}`);
      try {
        let x: Tensor;
        let shardLabels: number[] | undefined;
        let shardMasks: Tensor | undefined;
        if (extname(file).toLowerCase() === '.npz') {
          const arrays = await readNpz(file);
          const per = arrays.x.shape.slice(1).reduce((p, q) => p * q, 1);
          x = {
            data: arrays.x.data.slice((a - offset) * per, (b - offset) * per),
            shape: [b - a, ...arrays.x.shape.slice(1)],
          };
          if (arrays.labels) shardLabels = Array.from(arrays.labels.data.subarray(a - offset, b - offset));
          if (arrays.masks) {
            const mp = arrays.masks.shape.slice(1).reduce((p, q) => p * q, 1);
            shardMasks = {
              data: arrays.masks.data.slice((a - offset) * mp, (b - offset) * mp),
              shape: [b - a, ...arrays.masks.shape.slice(1)],
            };
          }
        } else x = readNpyRows(file, readNpyHeader(file), a - offset, b - offset);
        sameItemShape(file, x.shape.slice(1), info);
        parts.push(x);
        names.forEach((name, k) => {
          items.push({ item: a + k, name });
        });
        labels.push(...(shardLabels ?? names.map(() => -1)));
        if (shardMasks) masks.push(shardMasks);
      } catch (e) {
        for (const [k, name] of names.entries())
          errors.push({
            item: a + k,
            name,
            error: `unreadable shard: ${(e as Error).message.split('\n')[0]}`,
          });
      }
    }
    offset += counts[s];
  }
  if (parts.length === 0) return { tensor: null, items, labels, errors };
  const concat = (ts: Tensor[]): Tensor => {
    const data = new Float32Array(ts.reduce((n, t) => n + t.data.length, 0));
    let at = 0;
    for (const t of ts) {
      data.set(t.data, at);
      at += t.data.length;
    }
    return { data, shape: [ts.reduce((n, t) => n + t.shape[0], 0), ...ts[0].shape.slice(1)] };
  };
  const all = concat(parts);
  return {
    tensor: all,
    items,
    labels,
    ...(masks.length === parts.length ? { masks: concat(masks) } : {}),
    errors,
  };
}
