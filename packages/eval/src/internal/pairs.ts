import type { MetricContext, MetricResult } from '@xlens/core';
import { plane } from './stats.js';

/**
 * Score every item's map against its reference map with `compare`; a NaN (a constant map, whose
 * correlation is undefined) is reported in the warnings.
 */
export function comparePairs<O>(
  ctx: MetricContext<O>,
  compare: (a: Float32Array, b: Float32Array) => number,
): MetricResult {
  const hw = ctx.height * ctx.width;
  const warnings: string[] = [];
  const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
    const s = compare(plane(ctx.maps.data, i, hw), plane(ctx.reference.data, i, hw));
    if (Number.isNaN(s)) warnings.push(`item ${i}: a constant map has no correlation; no score`);
    return s;
  });
  return { scores, warnings };
}

/** Per-map min–max scaling to [0, 1] (a constant map becomes zeros), in float64. */
export function minMax(a: ArrayLike<number>): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  return Float64Array.from(a as ArrayLike<number>, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}
