import type { Tensor } from '../tensor.js';

/** Value at quantile `q` ∈ [0, 1] of the values (linear interpolation between order statistics). */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Per item: min–max scale to [0, 1]; a constant item becomes all zeros (never NaN). */
export function minMaxPerItem(t: Tensor): Tensor {
  const n = t.shape[0];
  const m = t.data.length / Math.max(n, 1);
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < m; j++) {
      const v = t.data[b * m + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    for (let j = 0; j < m; j++) out[b * m + j] = range > 0 ? (t.data[b * m + j] - lo) / range : 0;
  }
  return { data: out, shape: [...t.shape] };
}

/**
 * Per item: clip to the `[lowQ, highQ]` quantiles of the item's values, then scale so the larger
 * absolute bound becomes 1 (signed maps stay signed, in [−1, 1]).
 */
export function percentileClipPerItem(t: Tensor, lowQ = 0.005, highQ = 0.995): Tensor {
  const n = t.shape[0];
  const m = t.data.length / Math.max(n, 1);
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) {
    const part = t.data.subarray(b * m, (b + 1) * m);
    const lo = percentile(part, lowQ);
    const hi = percentile(part, highQ);
    const scale = Math.max(Math.abs(lo), Math.abs(hi));
    for (let j = 0; j < m; j++) {
      const v = Math.min(Math.max(part[j], lo), hi);
      out[b * m + j] = scale > 0 ? v / scale : 0;
    }
  }
  return { data: out, shape: [...t.shape] };
}

/** Per item: divide by the maximum absolute value (0 stays 0; an all-zero item stays zero). */
export function maxAbsPerItem(t: Tensor): Tensor {
  const n = t.shape[0];
  const m = t.data.length / Math.max(n, 1);
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let j = 0; j < m; j++) s = Math.max(s, Math.abs(t.data[b * m + j]));
    for (let j = 0; j < m; j++) out[b * m + j] = s > 0 ? t.data[b * m + j] / s : 0;
  }
  return { data: out, shape: [...t.shape] };
}

/** Element-wise absolute value. */
export function abs(t: Tensor): Tensor {
  return { data: t.data.map(Math.abs), shape: [...t.shape] };
}

/** Element-wise max(x, 0). */
export function relu(t: Tensor): Tensor {
  return { data: t.data.map((v) => Math.max(v, 0)), shape: [...t.shape] };
}
