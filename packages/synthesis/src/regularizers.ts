import { gaussianBlur } from '@xlens/core';
import type { Geometry, ValueRange } from './image-space.js';

/**
 * Total variation of a channels-first image (Mahendran & Vedaldi, 2015, arXiv:1412.0035):
 * Σ over channels and pixels of ((x[y, x+1] − x[y, x])² + (x[y+1, x] − x[y, x])²)^(β/2), differences
 * past the last row or column taken as 0. Adds `weight ×` its gradient to `gradient` when given and
 * returns the value (unweighted). For β < 2 a 1e-8 inside the power keeps the gradient finite at 0.
 */
export function totalVariation(
  x: Float32Array,
  g: Geometry,
  beta: number,
  gradient?: Float32Array,
  weight = 1,
): number {
  const { h, w } = g;
  const plane = h * w;
  const eps = beta < 2 ? 1e-8 : 0;
  let total = 0;
  for (let k = 0; k < g.c; k++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const p = k * plane + y * w + xx;
        const a = xx + 1 < w ? x[p + 1] - x[p] : 0;
        const b = y + 1 < h ? x[p + w] - x[p] : 0;
        const d = a * a + b * b + eps;
        total += d ** (beta / 2);
        if (!gradient || d === 0) continue;
        const f = weight * beta * d ** (beta / 2 - 1);
        gradient[p] -= f * (a + b);
        if (xx + 1 < w) gradient[p + 1] += f * a;
        if (y + 1 < h) gradient[p + w] += f * b;
      }
  return total;
}

/**
 * The norm prior Σ |x − centre|^α (α = 2: L2, Simonyan et al., 2014; α = 6 in Mahendran & Vedaldi,
 * 2015). Adds `weight ×` its gradient to `gradient` when given and returns the value (unweighted).
 */
export function normPrior(
  x: Float32Array,
  g: Geometry,
  range: ValueRange,
  alpha: number,
  gradient?: Float32Array,
  weight = 1,
): number {
  const plane = g.h * g.w;
  let total = 0;
  for (let p = 0; p < g.size; p++) {
    const d = x[p] - range.centre[Math.floor(p / plane)];
    const m = Math.abs(d);
    total += m ** alpha;
    if (gradient && m > 0) gradient[p] += weight * alpha * m ** (alpha - 1) * Math.sign(d);
  }
  return total;
}

/** Yosinski's L2 decay: x ← centre + (1 − decay)·(x − centre), in place. */
export function decayTowardsCentre(x: Float32Array, g: Geometry, range: ValueRange, decay: number): void {
  const plane = g.h * g.w;
  for (let p = 0; p < g.size; p++) {
    const c = range.centre[Math.floor(p / plane)];
    x[p] = c + (1 - decay) * (x[p] - c);
  }
}

/** A Gaussian blur of one channels-first image, in place (core's `gaussianBlur`). */
export function blurInPlace(x: Float32Array, g: Geometry, sigma: number): void {
  x.set(gaussianBlur({ data: x, shape: [1, g.c, g.h, g.w] }, sigma, 'NCHW').data);
}

/**
 * Reset every channel of the ⌊q·P/100⌋ pixels of lowest `score` (P pixels; ties go to the lower
 * index) to the centre, in place. Ranks rather than a threshold, so equal scores — common under
 * Adam, whose steps have equal sizes — still reset the asked share.
 */
function clipPixels(x: Float32Array, g: Geometry, range: ValueRange, score: Float64Array, q: number): void {
  const plane = g.h * g.w;
  const count = Math.floor((q / 100) * plane);
  if (count <= 0) return;
  const order = Array.from({ length: plane }, (_, p) => p).sort((a, b) => score[a] - score[b] || a - b);
  for (let r = 0; r < count; r++) for (let k = 0; k < g.c; k++) x[k * plane + order[r]] = range.centre[k];
}

/**
 * Yosinski et al., 2015, arXiv:1506.06579: clip pixels of small norm — the `q` percent of pixels
 * whose norm over channels of x − centre is smallest are set to the centre, in place.
 */
export function clipLowNorm(x: Float32Array, g: Geometry, range: ValueRange, q: number): void {
  const plane = g.h * g.w;
  const score = new Float64Array(plane);
  for (let k = 0; k < g.c; k++)
    for (let p = 0; p < plane; p++) score[p] += (x[k * plane + p] - range.centre[k]) ** 2;
  clipPixels(x, g, range, score, q);
}

/**
 * Yosinski et al., 2015: clip pixels of small contribution — |Σ_channels (x − centre) ⊙ ∇x|, the
 * linear estimate of how much the objective changes when the pixel is set to the centre; the `q`
 * percent of pixels where it is smallest are set to the centre, in place.
 */
export function clipLowContribution(
  x: Float32Array,
  gradient: Float32Array,
  g: Geometry,
  range: ValueRange,
  q: number,
): void {
  const plane = g.h * g.w;
  const score = new Float64Array(plane);
  for (let k = 0; k < g.c; k++)
    for (let p = 0; p < plane; p++)
      score[p] += (x[k * plane + p] - range.centre[k]) * gradient[k * plane + p];
  for (let p = 0; p < plane; p++) score[p] = Math.abs(score[p]);
  clipPixels(x, g, range, score, q);
}
