import {
  type Attribution,
  type ChannelReduction,
  InputError,
  imageDims,
  type Layout,
  reduceChannels,
  resizeBilinear,
  type Tensor,
} from '@xlens/core';
import { type Colormap, colormapIndex } from './colormaps.js';

/** An 8-bit RGBA image, laid out like the browser's `ImageData` (row-major, 4 bytes a pixel). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A blank (transparent black) image. */
export function createImage(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

/** Colour `width × height` values in [0, 1] with a colormap; opaque. */
export function colorize(
  values: ArrayLike<number>,
  width: number,
  height: number,
  cmap: Colormap,
): RgbaImage {
  if (values.length !== width * height) {
    throw new InputError(
      'invalid-shape',
      `colorize got ${values.length} values for a ${width}×${height} image`,
    );
  }
  const img = createImage(width, height);
  for (let p = 0; p < values.length; p++) {
    const k = colormapIndex(cmap, values[p]) * 3;
    img.data[p * 4] = cmap.lut[k];
    img.data[p * 4 + 1] = cmap.lut[k + 1];
    img.data[p * 4 + 2] = cmap.lut[k + 2];
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

/** Per-pixel opacity of a heatmap from its normalised values: far from neutral = opaque. */
export function heatAlpha(values: ArrayLike<number>, diverging: boolean): Float32Array {
  const out = new Float32Array(values.length);
  for (let p = 0; p < values.length; p++) {
    const v = Number.isFinite(values[p]) ? values[p] : diverging ? 0.5 : 0;
    out[p] = Math.min(diverging ? Math.abs(2 * v - 1) : Math.max(v, 0), 1);
  }
  return out;
}

/** Options of `overlay`. */
export interface OverlayOptions {
  /** Opacity of the heatmap in [0, 1]. Default 0.55. */
  readonly alpha?: number;
  /**
   * Per-pixel multipliers of `alpha` in [0, 1] (e.g. from `heatAlpha`), so weak attribution lets
   * the image show through. Default: uniform.
   */
  readonly weights?: ArrayLike<number>;
  /** Convert the base image to grey first, so heat colours are not confused with image colours. Default true. */
  readonly desaturate?: boolean;
}

/** Alpha-blend a heatmap over an image of the same size: `out = (1 − a)·base + a·heat`. Opaque result. */
export function overlay(base: RgbaImage, heat: RgbaImage, options: OverlayOptions = {}): RgbaImage {
  if (base.width !== heat.width || base.height !== heat.height) {
    throw new InputError(
      'invalid-shape',
      `overlay needs equal sizes: image ${base.width}×${base.height}, map ${heat.width}×${heat.height} (resize the map first)`,
    );
  }
  const alpha = options.alpha ?? 0.55;
  if (!(alpha >= 0 && alpha <= 1))
    throw new InputError('invalid-input', `overlay alpha = ${alpha} is invalid; expected a number in [0, 1]`);
  const desaturate = options.desaturate ?? true;
  const out = createImage(base.width, base.height);
  const n = base.width * base.height;
  for (let p = 0; p < n; p++) {
    const a = alpha * (options.weights ? Math.min(Math.max(options.weights[p], 0), 1) : 1);
    const o = p * 4;
    let r = base.data[o];
    let g = base.data[o + 1];
    let b = base.data[o + 2];
    if (desaturate) r = g = b = 0.299 * r + 0.587 * g + 0.114 * b;
    out.data[o] = (1 - a) * r + a * heat.data[o];
    out.data[o + 1] = (1 - a) * g + a * heat.data[o + 1];
    out.data[o + 2] = (1 - a) * b + a * heat.data[o + 2];
    out.data[o + 3] = 255;
  }
  return out;
}

/** Grey, RGB or RGBA bytes (`channels` per pixel) → an opaque RGBA image. */
export function imageFromBytes(
  bytes: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
): RgbaImage {
  if (![1, 2, 3, 4].includes(channels) || bytes.length !== width * height * channels) {
    throw new InputError(
      'invalid-shape',
      `imageFromBytes got ${bytes.length} bytes for ${width}×${height}×${channels}`,
    );
  }
  const img = createImage(width, height);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const grey = channels <= 2;
    img.data[p * 4] = bytes[s];
    img.data[p * 4 + 1] = grey ? bytes[s] : bytes[s + 1];
    img.data[p * 4 + 2] = grey ? bytes[s] : bytes[s + 2];
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

/**
 * A viewable picture of item `index` of a preprocessed input batch (1 or 3 channels, else the
 * first three): the item's values are min–max scaled to 0–255 over all its channels, which undoes
 * any per-channel affine preprocessing up to contrast. `bgr` swaps the channel order back.
 */
export function imageFromTensor(input: Tensor, layout: Layout, index = 0, bgr = false): RgbaImage {
  const { n, c, h, w } = imageDims(input.shape, layout);
  if (index < 0 || index >= n)
    throw new InputError('invalid-input', `item ${index} is outside the batch of ${n}`);
  const per = c * h * w;
  const part = input.data.subarray(index * per, (index + 1) * per);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of part) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi > lo ? hi - lo : 1;
  const at = (k: number, p: number): number => (layout === 'NCHW' ? part[k * h * w + p] : part[p * c + k]);
  const img = createImage(w, h);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < 3; ch++) {
      const k = c >= 3 ? (bgr ? 2 - ch : ch) : 0;
      img.data[p * 4 + ch] = (255 * (at(k, p) - lo)) / range;
    }
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

/**
 * One value per pixel (`N×H×W`) from an attribution: input-shaped maps have their channels
 * collapsed by `reduction` (default `sum`, which keeps the sign); pixel maps pass through.
 */
export function toPixelMap(
  attribution: Pick<Attribution, 'map' | 'mapKind' | 'layout'>,
  reduction: ChannelReduction = 'sum',
): Tensor {
  if (attribution.mapKind === 'pixel' || attribution.layout === 'NHW') return attribution.map;
  return reduceChannels(attribution.map, attribution.layout as Layout, reduction);
}

/** Resize `N×h×w` maps to `height × width` (bilinear, pixel-centre aligned; a no-op at equal size). */
export function resizeMaps(maps: Tensor, height: number, width: number): Tensor {
  if (maps.shape.length !== 3)
    throw new InputError('invalid-shape', `resizeMaps expects N×h×w maps, got [${maps.shape.join(', ')}]`);
  if (maps.shape[1] === height && maps.shape[2] === width) return maps;
  return resizeBilinear(maps, height, width);
}

/** A horizontal colour bar: value 0 on the left, 1 on the right. */
export function colorBar(cmap: Colormap, width = 256, height = 12): RgbaImage {
  const row = Array.from({ length: width }, (_, x) => (width > 1 ? x / (width - 1) : 0));
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y++) values.set(row, y * width);
  return colorize(values, width, height, cmap);
}

/** Nearest-neighbour resize of `N×h×w` maps, for values that must not blend (class indices). */
export function resizeNearest(maps: Tensor, height: number, width: number): Tensor {
  if (maps.shape.length !== 3)
    throw new InputError('invalid-shape', `resizeNearest expects N×h×w maps, got [${maps.shape.join(', ')}]`);
  const [n, h, w] = maps.shape;
  if (h === height && w === width) return maps;
  const out = new Float32Array(n * height * width);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < height; y++) {
      const sy = Math.min(Math.floor(((y + 0.5) * h) / height), h - 1);
      for (let x = 0; x < width; x++) {
        const sx = Math.min(Math.floor(((x + 0.5) * w) / width), w - 1);
        out[(b * height + y) * width + x] = maps.data[(b * h + sy) * w + sx];
      }
    }
  return { data: out, shape: [n, height, width] };
}
