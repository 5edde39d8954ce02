import { OptionError, type OptionSpec } from '@xlens/core';
import type { Geometry } from './image.js';

/** A size in pixels: one number for both axes, or `[height, width]`. */
export type PixelSize = number | readonly [number, number];

/** Option spec of a `PixelSize`. */
export function pixelSizeSpec(doc: string): OptionSpec {
  return { type: 'json', doc: `${doc}: pixels, a number or [height, width]` };
}

/**
 * `[height, width]` of a stride: `null` is half the window, rounded up (windows overlap by half);
 * else as `pixelPair`.
 */
export function stridePair(method: string, v: unknown, window: [number, number]): [number, number] {
  return v === null ? [Math.ceil(window[0] / 2), Math.ceil(window[1] / 2)] : pixelPair(method, 'stride', v);
}

/** `[height, width]` of a `PixelSize`, or an `OptionError` naming the option and what is allowed. */
export function pixelPair(method: string, key: string, v: unknown): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!pair?.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
    throw new OptionError(
      'invalid-option',
      `${method}: option ${key} = ${JSON.stringify(v)} is invalid; expected an integer ≥ 1 or [height, width] of integers ≥ 1 (pixels)`,
    );
  }
  return [pair[0], pair[1]];
}

/** A rectangle of pixels `[top, bottom) × [left, right)`. */
export interface Rect {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * Window starts along one axis, as Captum's `Occlusion` places them: ⌈(size − window)/stride⌉ + 1
 * windows starting at k·stride, the last one cut at the border when the stride does not divide
 * size − window.
 */
function starts(size: number, window: number, stride: number): number[] {
  const count = Math.ceil((size - window) / stride) + 1;
  return Array.from({ length: count }, (_, k) => k * stride);
}

/**
 * Check a window and stride against the image: the window fits in the image and the stride is at
 * most the window (else some pixels would never be covered), as Captum requires.
 */
export function checkWindows(
  method: string,
  g: Pick<Geometry, 'h' | 'w'>,
  window: [number, number],
  stride: [number, number],
): void {
  if (window[0] > g.h || window[1] > g.w) {
    throw new OptionError(
      'invalid-option',
      `${method}: window [${window.join(', ')}] does not fit the ${g.h}×${g.w} image; expected at most [${g.h}, ${g.w}]`,
    );
  }
  if (stride[0] > window[0] || stride[1] > window[1]) {
    throw new OptionError(
      'invalid-option',
      `${method}: stride [${stride.join(', ')}] is larger than the window [${window.join(', ')}], which would leave pixels uncovered; expected a stride ≤ the window on both axes`,
    );
  }
}

/** Every window position, row by row. */
export function slidingWindows(
  g: Pick<Geometry, 'h' | 'w'>,
  window: [number, number],
  stride: [number, number],
): Rect[] {
  const out: Rect[] = [];
  for (const top of starts(g.h, window[0], stride[0]))
    for (const left of starts(g.w, window[1], stride[1]))
      out.push({
        top,
        bottom: Math.min(g.h, top + window[0]),
        left,
        right: Math.min(g.w, left + window[1]),
      });
  return out;
}

/** Add `value` to every pixel of `win` in item `i` of an `n×h×w` accumulator. */
export function addToWindow(
  sums: Float64Array,
  g: Pick<Geometry, 'h' | 'w'>,
  i: number,
  win: Rect,
  value: number,
): void {
  for (let y = win.top; y < win.bottom; y++) {
    const row = (i * g.h + y) * g.w;
    for (let x = win.left; x < win.right; x++) sums[row + x] += value;
  }
}

/** Per-pixel sums divided by how many windows cover each pixel: the `n×h×w` map. */
export function averageOverWindows(
  sums: Float64Array,
  g: Pick<Geometry, 'h' | 'w'>,
  windows: readonly Rect[],
): Float32Array {
  const hw = g.h * g.w;
  const covered = new Float64Array(hw);
  for (const win of windows) addToWindow(covered, g, 0, win, 1);
  const map = new Float32Array(sums.length);
  for (let e = 0; e < map.length; e++) map[e] = sums[e] / covered[e % hw];
  return map;
}
