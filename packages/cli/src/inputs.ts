import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  InputError,
  type Layout,
  type Model,
  type ModelInfo,
  parseNpy,
  type Tensor,
  toChannelsFirst,
  toChannelsLast,
  validateInput,
} from '@xlens/core';
import { nodeFileReader } from '@xlens/core/node';
import { imageFromBytes, imageFromTensor, type RgbaImage } from '@xlens/viz';
import { sampleImages } from '@xlens/zoo';
import { UsageError } from './args.js';

/** A batch ready for the model, with a name and a picture per item. */
export interface InputBatch {
  /** `N×inputShape` in the model's layout. */
  readonly tensor: Tensor;
  readonly names: readonly string[];
  /** What the model saw, as RGBA, for reports. */
  readonly images: readonly RgbaImage[];
}

/** Image preprocessing: `x = (pixel / 255 − mean) / std` per channel, after resizing. */
export interface Preprocess {
  readonly size?: { readonly height: number; readonly width: number };
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** Feed channels in B, G, R order. */
  readonly bgr?: boolean;
}

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** Expand `--image` arguments: files as given, folders to their image files (sorted). */
export async function expandImagePaths(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(arg);
    } catch {
      throw new InputError('invalid-input', `image ${arg} not found`);
    }
    if (!info.isDirectory()) {
      out.push(arg);
      continue;
    }
    const files = (await readdir(arg)).filter((f) => imageExtensions.has(extname(f).toLowerCase())).sort();
    if (files.length === 0)
      throw new InputError(
        'invalid-input',
        `folder ${arg} holds no images (${[...imageExtensions].join(', ')})`,
      );
    out.push(...files.map((f) => join(arg, f)));
  }
  return out;
}

/** Height, width and channels of one input item of the model. */
export function modelImageDims(info: ModelInfo): { height: number; width: number; channels: number } {
  const s = info.inputShape;
  if (s.length !== 3)
    throw new InputError('invalid-input', `${info.name} takes inputs of shape [${s.join(', ')}], not images`);
  return info.layout === 'NCHW'
    ? { channels: s[0], height: s[1], width: s[2] }
    : { height: s[0], width: s[1], channels: s[2] };
}

/** The image size to feed: the model's own, or `--size` where the model leaves it open. */
export function targetSize(
  info: ModelInfo,
  size: Preprocess['size'],
): { height: number; width: number; channels: number } {
  const dims = modelImageDims(info);
  if (dims.channels !== 1 && dims.channels !== 3) {
    throw new InputError(
      'invalid-input',
      `${info.name} takes ${dims.channels}-channel inputs; images give 1 or 3 (use --input with a .npy)`,
    );
  }
  const pick = (fixed: number, wanted: number | undefined, axis: string): number => {
    if (fixed > 0) {
      if (wanted !== undefined && wanted !== fixed)
        throw new UsageError(`--size gives ${axis} ${wanted} but ${info.name} takes ${fixed}`);
      return fixed;
    }
    if (wanted === undefined) throw new UsageError(`${info.name} has no fixed input ${axis}; give --size`);
    return wanted;
  };
  return {
    height: pick(dims.height, size?.height, 'height'),
    width: pick(dims.width, size?.width, 'width'),
    channels: dims.channels,
  };
}

function perChannel(
  name: string,
  values: readonly number[] | undefined,
  channels: number,
  fallback: number,
): number[] {
  if (!values) return Array(channels).fill(fallback);
  if (values.length === 1) return Array(channels).fill(values[0]);
  if (values.length !== channels)
    throw new UsageError(
      `--${name} has ${values.length} values; the model has ${channels} channels (give 1 or ${channels})`,
    );
  return [...values];
}

/**
 * The model-space range of pixel values 0…1 under the preprocessing: one pair, or one per channel
 * when `--mean`/`--std` list several values. Used for black/white baselines and LRP bounds.
 */
export function preprocessRange(pre: Preprocess): [number, number][] {
  const mean = pre.mean ?? [0];
  const std = pre.std ?? [1];
  if (mean.length > 1 && std.length > 1 && mean.length !== std.length) {
    throw new UsageError(`--mean has ${mean.length} values but --std has ${std.length}`);
  }
  const channels = Math.max(mean.length, std.length);
  return Array.from({ length: channels }, (_, c) => {
    const m = mean[mean.length === 1 ? 0 : c];
    const s = std[std.length === 1 ? 0 : c];
    const a = (0 - m) / s;
    const b = (1 - m) / s;
    return [Math.min(a, b), Math.max(a, b)];
  });
}

/** Decode, resize (cover + centre crop) and normalise image files into one batch. */
export async function loadImages(
  paths: readonly string[],
  info: ModelInfo,
  pre: Preprocess,
): Promise<InputBatch> {
  const { height, width, channels } = targetSize(info, pre.size);
  const mean = perChannel('mean', pre.mean, channels, 0);
  const std = perChannel('std', pre.std, channels, 1);
  if (std.some((s) => s === 0)) throw new UsageError('--std must not contain 0');
  const n = paths.length;
  const per = height * width * channels;
  const data = new Float32Array(n * per);
  const images: RgbaImage[] = [];
  const sharp = (await import('sharp')).default;
  for (let i = 0; i < n; i++) {
    let bytes: Buffer;
    try {
      // Through core's checked reader, so a device or FIFO given as an image is refused, not read forever.
      const pipeline = sharp(nodeFileReader.readBytes(paths[i]), { failOn: 'error' })
        .rotate()
        .flatten({ background: '#ffffff' })
        .resize(width, height, { fit: 'cover' });
      const raw = await (channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb'))
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (raw.info.channels !== channels) throw new Error(`decoded ${raw.info.channels} channels`);
      bytes = raw.data;
    } catch (e) {
      throw new InputError(
        'invalid-input',
        `cannot read image ${paths[i]}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    images.push(imageFromBytes(bytes, width, height, channels));
    for (let p = 0; p < height * width; p++) {
      for (let c = 0; c < channels; c++) {
        const src = pre.bgr && channels === 3 ? 2 - c : c;
        const v = (bytes[p * channels + src] / 255 - mean[c]) / std[c];
        const at = info.layout === 'NCHW' ? c * height * width + p : p * channels + c;
        data[i * per + at] = v;
      }
    }
  }
  const shape = info.layout === 'NCHW' ? [n, channels, height, width] : [n, height, width, channels];
  return { tensor: { data, shape }, names: paths.map((p) => basename(p)), images };
}

/**
 * Read an already preprocessed `.npy` batch (float32, `layout` = NCHW or NHWC, default the
 * model's), convert it to the model's layout and check it against the model's input shape.
 */
export async function loadNpyInput(
  path: string,
  model: Model,
  layout: Layout | undefined,
  bgr = false,
): Promise<InputBatch> {
  const { info } = model;
  let bytes: Uint8Array;
  try {
    // Core's checked reader: a regular file within the size limit (not a FIFO or /dev/zero).
    bytes = nodeFileReader.readBytes(path);
  } catch (e) {
    throw new InputError('invalid-input', `input ${path} not found or unreadable (${(e as Error).message})`);
  }
  let t = parseNpy(bytes, path);
  const rank = info.inputShape.length + 1;
  if (t.shape.length !== rank) {
    throw new InputError(
      'invalid-shape',
      `${path} has shape [${t.shape.join(', ')}]; ${info.name} needs rank ${rank}: [N, ${info.inputShape.join(', ')}] (${info.layout})`,
    );
  }
  const from = layout ?? info.layout;
  if (rank === 4 && from !== info.layout) t = from === 'NHWC' ? toChannelsFirst(t) : toChannelsLast(t);
  try {
    validateInput(model, t);
  } catch (e) {
    throw new InputError('invalid-shape', `${path}: ${(e as Error).message}`);
  }
  const name = basename(path);
  const n = t.shape[0];
  const images =
    rank === 4 ? Array.from({ length: n }, (_, i) => imageFromTensor(t, info.layout, i, bgr)) : [];
  return { tensor: t, names: Array.from({ length: n }, (_, i) => `${name}[${i}]`), images };
}

/** The bundled sample images of a zoo model (values in [0, 1], NHWC), converted to the model's layout. */
export function zooSampleBatch(name: string, model: Model, count = 6): InputBatch {
  const s = sampleImages(name, count);
  const t = s.images;
  const [n, h, w, c] = t.shape;
  const images = Array.from({ length: n }, (_, i) =>
    imageFromBytes(
      Uint8ClampedArray.from(t.data.subarray(i * h * w * c, (i + 1) * h * w * c), (v) => Math.round(v * 255)),
      w,
      h,
      c,
    ),
  );
  const tensor = model.info.layout === 'NCHW' ? toChannelsFirst(t) : t;
  validateInput(model, tensor);
  return { tensor, names: s.names, images };
}
