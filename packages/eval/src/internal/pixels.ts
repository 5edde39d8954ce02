import { imageDims, type Layout, type Tensor } from '@xlens/core';
import { argsort } from './stats.js';

/** Sizes of an image batch in a layout; `hw` pixels and `per` values per item. */
export interface Geometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly hw: number;
  readonly per: number;
  readonly layout: Layout;
}

/** The geometry of an image batch. */
export function geometryOf(input: Tensor, layout: Layout): Geometry {
  const { n, c, h, w } = imageDims(input.shape, layout);
  return { n, c, h, w, hw: h * w, per: c * h * w, layout };
}

/** Set every channel of the given pixels (`y·w + x`) of one item's data `dst` to those of `src`. */
export function copyPixels(
  dst: Float32Array,
  src: Float32Array,
  pixels: ArrayLike<number>,
  g: Geometry,
): void {
  if (g.layout === 'NCHW') {
    for (let k = 0; k < g.c; k++) {
      const o = k * g.hw;
      for (let j = 0; j < pixels.length; j++) dst[o + pixels[j]] = src[o + pixels[j]];
    }
  } else {
    for (let j = 0; j < pixels.length; j++) {
      const o = pixels[j] * g.c;
      for (let k = 0; k < g.c; k++) dst[o + k] = src[o + k];
    }
  }
}

/**
 * Groups of pixels perturbed together, in perturbation order: unit `u` covers
 * `pixels[offsets[u] .. offsets[u + 1])`.
 */
export interface Units {
  readonly offsets: Int32Array;
  readonly pixels: Int32Array;
}

/** Number of units. */
export const unitCount = (u: Units): number => u.offsets.length - 1;

/** Single pixels ordered by their map value, most relevant first (`morf`) or last (`lerf`). */
export function pixelUnits(map: ArrayLike<number>, order: 'morf' | 'lerf'): Units {
  return {
    offsets: Int32Array.from({ length: map.length + 1 }, (_, i) => i),
    pixels: argsort(map, order === 'morf'),
  };
}

/**
 * The cells of a `size × size` grid over an `h × w` map (cells on the right and bottom edges
 * clipped), ordered by the sum of the map over each cell, most relevant first (`morf`) or last.
 */
export function patchUnits(
  map: ArrayLike<number>,
  h: number,
  w: number,
  size: number,
  order: 'morf' | 'lerf',
): Units {
  const cells: number[][] = [];
  for (let y0 = 0; y0 < h; y0 += size)
    for (let x0 = 0; x0 < w; x0 += size) {
      const cell: number[] = [];
      for (let y = y0; y < Math.min(h, y0 + size); y++)
        for (let x = x0; x < Math.min(w, x0 + size); x++) cell.push(y * w + x);
      cells.push(cell);
    }
  const sums = cells.map((cell) => cell.reduce((s, p) => s + map[p], 0));
  const sorted = argsort(sums, order === 'morf');
  const offsets = new Int32Array(cells.length + 1);
  const pixels = new Int32Array(h * w);
  let o = 0;
  sorted.forEach((c, u) => {
    pixels.set(cells[c], o);
    o += cells[c].length;
    offsets[u + 1] = o;
  });
  return { offsets, pixels };
}

/** The pixels of units `[from, to)`. */
export function unitPixels(u: Units, from: number, to: number): Int32Array {
  return u.pixels.subarray(u.offsets[from], u.offsets[to]);
}

/** Units perturbed after each of `steps` equal steps through `total` units: `round(s·total/steps)`, s = 0..steps. */
export function stepCounts(total: number, steps: number): Int32Array {
  const s = Math.min(steps, total);
  return Int32Array.from({ length: s + 1 }, (_, k) => Math.round((k * total) / s));
}
