import type { CheckCurve, Model, Tensor } from '@xlens/core';
import { hogFeatures } from '../hog.js';
import { structuralSimilarity } from '../ssim.js';
import { argsort, mean, pearson, plane, spearman } from './stats.js';

/** The similarity measures of Adebayo et al. (2018), by the names the checks report. */
export const similarityMeasures = ['spearman-abs', 'spearman', 'ssim', 'hog'] as const;
export type SimilarityMeasure = (typeof similarityMeasures)[number];

/**
 * HOG cell side for an `h × w` map: the metric's default 8, smaller for small maps so that a map
 * has at least 2×2 cells (one block).
 */
export function hogCell(h: number, w: number): number {
  return Math.max(2, Math.min(8, Math.floor(Math.min(h, w) / 2)));
}

/**
 * Every measure of item `i` of two `N×H×W` map batches. Spearman on signed values and on
 * magnitudes; SSIM and HOG on magnitudes (each map scaled to [0, 1]), as the paper's figures
 * compare the absolute-value visualisations.
 */
export function similarities(a: Tensor, b: Tensor, i: number): Record<SimilarityMeasure, number> {
  const [, h, w] = a.shape;
  const pa = plane(a.data, i, h * w);
  const pb = plane(b.data, i, h * w);
  const aa = pa.map(Math.abs);
  const ab = pb.map(Math.abs);
  const cell = hogCell(h, w);
  return {
    'spearman-abs': spearman(aa, ab),
    spearman: spearman(pa, pb),
    ssim: h >= 2 && w >= 2 ? structuralSimilarity(aa, ab, h, w, 1.5, 'minmax') : Number.NaN,
    hog:
      h >= 4 && w >= 4 ? pearson(hogFeatures(aa, h, w, cell, 9), hogFeatures(ab, h, w, cell, 9)) : Number.NaN,
  };
}

/** Whether item `i` of an `N×…` batch holds one value everywhere. */
export function isConstantItem(t: Tensor, i: number): boolean {
  const size = t.data.length / t.shape[0];
  const p = plane(t.data, i, size);
  return p.every((v) => v === p[0]);
}

/**
 * `similarities` of a reference map and a map under test, where a test map that has become
 * constant while the reference is not scores 0 on every measure (they are undefined there): it
 * no longer ranks any pixel above another, so it keeps none of the reference's evidence — what the
 * randomisation tests look for (an all-zero Grad-CAM after a ReLU, say). `constant` says it happened.
 */
export function similaritiesToReference(
  reference: Tensor,
  maps: Tensor,
  i: number,
): Record<SimilarityMeasure, number> & { readonly constant: boolean } {
  if (isConstantItem(maps, i) && !isConstantItem(reference, i)) {
    return { 'spearman-abs': 0, spearman: 0, ssim: 0, hog: 0, constant: true };
  }
  return { ...similarities(reference, maps, i), constant: false };
}

/**
 * Σ|a − b| / max(Σ|a|, Σ|b|) of item `i`: 0 for equal maps, at most 2, symmetric (0 when both
 * maps are zero).
 */
export function relativeDifference(a: Tensor, b: Tensor, i: number): number {
  const size = a.data.length / a.shape[0];
  const pa = plane(a.data, i, size);
  const pb = plane(b.data, i, size);
  let d = 0;
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < size; k++) {
    d += Math.abs(pa[k] - pb[k]);
    sa += Math.abs(pa[k]);
    sb += Math.abs(pb[k]);
  }
  const s = Math.max(sa, sb);
  return s === 0 ? 0 : d / s;
}

/** Share of the k largest-magnitude pixels of item `i` of `a` also among those of `b`. */
export function topKShare(a: Float32Array, b: Float32Array, k: number): number {
  const top = (m: Float32Array): Int32Array => argsort(m.map(Math.abs), true).subarray(0, k);
  const inB = new Set(top(b));
  let common = 0;
  for (const p of top(a)) if (inB.has(p)) common++;
  return common / k;
}

/** Mean over the finite values (NaN when there are none). */
export function finiteMean(values: ArrayLike<number>): number {
  return mean(Array.from(values).filter(Number.isFinite));
}

/** A curve from per-item rows `[item][step]`, `y` the mean over items with a finite value. */
export function curveOf(id: string, title: string, x: readonly string[], items: number[][]): CheckCurve {
  const y = x.map((_, s) => finiteMean(items.map((row) => row[s])));
  return { id, title, x, y, items };
}

/** Release a model the check built (never the caller's). */
export async function release(model: Model): Promise<void> {
  await model.dispose();
}
