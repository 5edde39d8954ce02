import { InputError, type Layout, type Tensor } from '@xlens/core';
import type { Colormap } from './colormaps.js';
import { colorize, createImage, type RgbaImage } from './image.js';

/** Options of `imageGrid`. */
export interface ImageGridOptions {
  /** Tiles per row. Default: ⌈√count⌉. */
  readonly columns?: number;
  /** Pixels between tiles (at the output scale). Default 2. */
  readonly gap?: number;
  /** Integer nearest-neighbour magnification of every tile. Default 1. */
  readonly scale?: number;
  /** RGB of the gaps. Default white. */
  readonly background?: readonly [number, number, number];
}

/**
 * Tiles side by side, row by row, magnified by `scale` (nearest neighbour, so small images stay
 * sharp), on a background; tiles of different sizes sit in cells of the largest size.
 */
export function imageGrid(tiles: readonly RgbaImage[], options: ImageGridOptions = {}): RgbaImage {
  if (tiles.length === 0) throw new InputError('invalid-input', 'imageGrid needs at least one tile');
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 2;
  if (!Number.isInteger(scale) || scale < 1)
    throw new InputError('invalid-input', `imageGrid scale = ${scale} is invalid; expected an integer ≥ 1`);
  const columns = Math.min(tiles.length, options.columns ?? Math.ceil(Math.sqrt(tiles.length)));
  const rows = Math.ceil(tiles.length / columns);
  const cw = Math.max(...tiles.map((t) => t.width)) * scale;
  const ch = Math.max(...tiles.map((t) => t.height)) * scale;
  const out = createImage(columns * cw + (columns - 1) * gap, rows * ch + (rows - 1) * gap);
  const [r, g, b] = options.background ?? [255, 255, 255];
  for (let p = 0; p < out.width * out.height; p++) out.data.set([r, g, b, 255], p * 4);
  tiles.forEach((tile, i) => {
    const left = (i % columns) * (cw + gap);
    const top = Math.floor(i / columns) * (ch + gap);
    for (let y = 0; y < tile.height * scale; y++)
      for (let x = 0; x < tile.width * scale; x++) {
        const s = (Math.floor(y / scale) * tile.width + Math.floor(x / scale)) * 4;
        out.data.set(tile.data.subarray(s, s + 4), ((top + y) * out.width + left + x) * 4);
      }
  });
  return out;
}

/**
 * Item `index` of an image batch as a picture, mapping `[low, high]` to 0–255 (clipped) instead of
 * stretching each item's own min–max, so synthesised images keep their true contrast. 1 or 3
 * channels (others: the first three).
 */
export function imageInRange(
  input: Tensor,
  layout: Layout,
  index: number,
  low: number,
  high: number,
): RgbaImage {
  const [n, a, b, d] = input.shape;
  if (input.shape.length !== 4 || index < 0 || index >= n)
    throw new InputError(
      'invalid-input',
      `imageInRange needs item ${index} of a rank-4 batch, got [${input.shape.join(', ')}]`,
    );
  const [c, h, w] = layout === 'NCHW' ? [a, b, d] : [d, a, b];
  const per = c * h * w;
  const at = (k: number, p: number): number =>
    layout === 'NCHW' ? input.data[index * per + k * h * w + p] : input.data[index * per + p * c + k];
  const img = createImage(w, h);
  const span = high > low ? high - low : 1;
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) img.data[p * 4 + k] = (255 * (at(c >= 3 ? k : 0, p) - low)) / span;
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

/**
 * One tile per channel of `N×C×h×w` maps for item `index`, coloured by `cmap` on one scale from 0
 * to the largest value of the item (`shared`, default: tiles compare) or per channel. Negative
 * values count as 0 (activations after a ReLU).
 */
export function channelTiles(
  maps: Tensor,
  index: number,
  cmap: Colormap,
  scale: 'shared' | 'per-channel' = 'shared',
): RgbaImage[] {
  if (maps.shape.length !== 4)
    throw new InputError(
      'invalid-shape',
      `channelTiles expects N×C×h×w maps, got [${maps.shape.join(', ')}]`,
    );
  const [, c, h, w] = maps.shape;
  const plane = h * w;
  const part = maps.data.subarray(index * c * plane, (index + 1) * c * plane);
  const maxOf = (from: number, to: number) => {
    let m = 0;
    for (let i = from; i < to; i++) m = Math.max(m, part[i]);
    return m || 1;
  };
  const shared = maxOf(0, part.length);
  return Array.from({ length: c }, (_, k) => {
    const top = scale === 'shared' ? shared : maxOf(k * plane, (k + 1) * plane);
    const values = Float32Array.from(part.subarray(k * plane, (k + 1) * plane), (v) => Math.max(v, 0) / top);
    return colorize(values, w, h, cmap);
  });
}

/**
 * Convolution kernels `O×I×kH×kW` with values in [0, 1] (as `filterImages` of `@xlens/synthesis`
 * returns them) as tiles: RGB images when I = 3, otherwise one grey tile per input channel.
 */
export function filterTiles(images: Tensor): RgbaImage[] {
  if (images.shape.length !== 4)
    throw new InputError('invalid-shape', `filterTiles expects O×I×kH×kW, got [${images.shape.join(', ')}]`);
  const [o, i, kh, kw] = images.shape;
  const plane = kh * kw;
  const tiles: RgbaImage[] = [];
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let f = 0; f < o; f++) {
    const base = f * i * plane;
    for (let k = 0; k < (i === 3 ? 1 : i); k++) {
      const tile = createImage(kw, kh);
      for (let p = 0; p < plane; p++) {
        for (let ch = 0; ch < 3; ch++)
          tile.data[p * 4 + ch] = byte(images.data[base + (i === 3 ? ch : k) * plane + p]);
        tile.data[p * 4 + 3] = 255;
      }
      tiles.push(tile);
    }
  }
  return tiles;
}
