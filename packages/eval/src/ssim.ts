import { defineMetric, type Metric } from '@xlens/core';
import { comparePairs, minMax } from './internal/pairs.js';

/** Options of `ssim`. */
export interface SsimOptions {
  /** σ of the Gaussian window (the paper's 1.5; the window spans ±5 pixels at 1.5). */
  readonly sigma: number;
  /** Scale each map to [0, 1] first (then the dynamic range L is 1), or keep raw values. */
  readonly normalize: 'minmax' | 'none';
}

/** Gaussian-weighted local mean of `a` around every pixel (window clipped to the map and renormalised). */
function localMean(a: Float64Array, h: number, w: number, kernel: Float64Array, r: number): Float64Array {
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      let k = 0;
      for (let d = Math.max(-r, -x); d <= Math.min(r, w - 1 - x); d++) {
        s += kernel[d + r] * a[y * w + x + d];
        k += kernel[d + r];
      }
      tmp[y * w + x] = s / k;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      let k = 0;
      for (let d = Math.max(-r, -y); d <= Math.min(r, h - 1 - y); d++) {
        s += kernel[d + r] * tmp[(y + d) * w + x];
        k += kernel[d + r];
      }
      out[y * w + x] = s / k;
    }
  return out;
}

/**
 * Mean SSIM of two `h × w` maps with a Gaussian window of σ `sigma` (clipped at the borders and
 * renormalised), after scaling each to [0, 1] (`minmax`) or on the raw values with the joint range
 * as the dynamic range L.
 */
export function structuralSimilarity(
  ra: ArrayLike<number>,
  rb: ArrayLike<number>,
  h: number,
  w: number,
  sigma: number,
  normalize: 'minmax' | 'none',
): number {
  const r = Math.ceil(3.5 * sigma);
  const kernel = Float64Array.from({ length: 2 * r + 1 }, (_, i) =>
    Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const mean = (v: Float64Array): Float64Array => localMean(v, h, w, kernel, r);
  const a = normalize === 'minmax' ? minMax(ra) : Float64Array.from(ra);
  const b = normalize === 'minmax' ? minMax(rb) : Float64Array.from(rb);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < a.length; p++) {
    lo = Math.min(lo, a[p], b[p]);
    hi = Math.max(hi, a[p], b[p]);
  }
  const range = normalize === 'minmax' || hi === lo ? 1 : hi - lo;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const ma = mean(a);
  const mb = mean(b);
  const maa = mean(a.map((v) => v * v));
  const mbb = mean(b.map((v) => v * v));
  const mab = mean(a.map((v, i) => v * b[i]));
  let total = 0;
  for (let p = 0; p < h * w; p++) {
    const va = maa[p] - ma[p] * ma[p];
    const vb = mbb[p] - mb[p] * mb[p];
    const cov = mab[p] - ma[p] * mb[p];
    total += ((2 * ma[p] * mb[p] + c1) * (2 * cov + c2)) / ((ma[p] ** 2 + mb[p] ** 2 + c1) * (va + vb + c2));
  }
  return total / (h * w);
}

/**
 * Wang, Bovik, Sheikh & Simoncelli, 2004, "Image Quality Assessment: From Error Visibility to
 * Structural Similarity", IEEE TIP, doi:10.1109/TIP.2003.819861; used to compare maps by Adebayo
 * et al., 2018, arXiv:1810.03292. Mean SSIM with a Gaussian window (σ = 1.5, radius ⌈3.5σ⌉, K1 =
 * 0.01, K2 = 0.03). The window is clipped at the borders and renormalised, so every pixel counts
 * (the paper keeps only positions where the whole window fits, which small maps do not have).
 * Identical maps score 1.
 */
export const ssim: Metric<SsimOptions> = defineMetric<SsimOptions>({
  id: 'ssim',
  category: 'similarity',
  title: 'Structural similarity (SSIM)',
  citation:
    'Wang, Bovik, Sheikh & Simoncelli, 2004, Image Quality Assessment: From Error Visibility to Structural Similarity, IEEE TIP, doi:10.1109/TIP.2003.819861',
  description: 'Mean structural similarity of two maps (luminance, contrast and structure).',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [-1, 1],
  defaults: { sigma: 1.5, normalize: 'minmax' },
  options: {
    sigma: { type: 'number', doc: 'standard deviation of the Gaussian window', min: 0.1, unit: 'pixels' },
    normalize: {
      type: 'enum',
      doc: 'scale each map to [0, 1] first, or keep raw values',
      values: ['minmax', 'none'],
    },
  },
  async compute(ctx) {
    const { sigma, normalize } = ctx.options;
    return comparePairs(ctx, (a, b) => structuralSimilarity(a, b, ctx.height, ctx.width, sigma, normalize));
  },
});
