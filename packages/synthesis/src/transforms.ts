import type { Rng } from '@xlens/core';
import type { Geometry } from './image-space.js';

/** Random transformations applied to the image before every model pass (Olah et al., 2017). */
export interface TransformOptions {
  /** Largest shift in pixels along each axis (integer draws in [−jitter, jitter]). */
  readonly jitter: number;
  /** Scale factors to draw from (one per step); empty or `[1]` for none. */
  readonly scales: readonly number[];
  /** Largest rotation in degrees (uniform in [−rotate, rotate]). */
  readonly rotate: number;
}

/**
 * One drawn transformation as bilinear sampling: output pixel p reads the four input pixels
 * `from[4p..4p+3]` (−1 outside the image, where the channel's fill value is read) with weights
 * `weight[4p..4p+3]`.
 */
export interface Warp {
  readonly from: Int32Array;
  readonly weight: Float32Array;
}

/** Draw this step's transformation (null for the identity). Every item of the batch gets the same. */
export function drawWarp(rng: Rng, g: Geometry, o: TransformOptions): Warp | null {
  const dx = o.jitter > 0 ? rng.int(2 * o.jitter + 1) - o.jitter : 0;
  const dy = o.jitter > 0 ? rng.int(2 * o.jitter + 1) - o.jitter : 0;
  const s = o.scales.length > 0 ? o.scales[rng.int(o.scales.length)] : 1;
  const angle = o.rotate > 0 ? ((rng.uniform() * 2 - 1) * o.rotate * Math.PI) / 180 : 0;
  if (dx === 0 && dy === 0 && s === 1 && angle === 0) return null;
  const { h, w } = g;
  const from = new Int32Array(h * w * 4);
  const weight = new Float32Array(h * w * 4);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // Inverse map: where output (y, x) comes from, about the image centre, then shifted.
      const u = (x - cx - dx) / s;
      const v = (y - cy - dy) / s;
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const p = (y * w + x) * 4;
      const corners: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ];
      corners.forEach(([yy, xx, wt], k) => {
        from[p + k] = yy >= 0 && yy < h && xx >= 0 && xx < w ? yy * w + xx : -1;
        weight[p + k] = wt;
      });
    }
  return { from, weight };
}

/** The warped image (channels-first); outside the image each channel reads `fill[c]`. */
export function applyWarp(warp: Warp, x: Float32Array, g: Geometry, fill: Float32Array): Float32Array {
  const plane = g.h * g.w;
  const out = new Float32Array(g.size);
  for (let k = 0; k < g.c; k++) {
    const base = k * plane;
    for (let p = 0; p < plane; p++) {
      let s = 0;
      for (let j = 0; j < 4; j++) {
        const q = warp.from[p * 4 + j];
        s += warp.weight[p * 4 + j] * (q < 0 ? fill[k] : x[base + q]);
      }
      out[base + p] = s;
    }
  }
  return out;
}

/** The adjoint of `applyWarp`: the gradient at the image from the gradient at the warped image. */
export function warpAdjoint(warp: Warp, gradient: Float32Array, g: Geometry): Float32Array {
  const plane = g.h * g.w;
  const out = new Float32Array(g.size);
  for (let k = 0; k < g.c; k++) {
    const base = k * plane;
    for (let p = 0; p < plane; p++) {
      const v = gradient[base + p];
      for (let j = 0; j < 4; j++) {
        const q = warp.from[p * 4 + j];
        if (q >= 0) out[base + q] += warp.weight[p * 4 + j] * v;
      }
    }
  }
  return out;
}
