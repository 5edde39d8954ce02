import type { MetricContext, Tensor } from '@xlens/core';
import { plane } from './stats.js';

/** Value range (max − min) of every item of a batch. */
export function itemRanges(input: Tensor, n: number): Float64Array {
  const per = input.data.length / n;
  return Float64Array.from({ length: n }, (_, i) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of plane(input.data, i, per)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  });
}

/**
 * The batch with one shared noise image `z` (one item's values) added to every item, scaled by
 * `scale` times the item's value range: sample s's draw is shared by every item (ADR 0003).
 */
export function addScaledNoise(input: Tensor, z: Float32Array, scale: number, ranges: Float64Array): Tensor {
  const per = z.length;
  const data = new Float32Array(input.data.length);
  for (let i = 0; i < ranges.length; i++)
    for (let e = 0; e < per; e++) data[i * per + e] = input.data[i * per + e] + scale * ranges[i] * z[e];
  return { data, shape: [...input.shape] };
}

/** L2 norm of item i of `a` minus item i of `b` (or of `a` alone), over `size` values. */
export function itemDistance(a: Tensor, b: Tensor | null, i: number, size: number): number {
  const x = plane(a.data, i, size);
  const y = b ? plane(b.data, i, size) : null;
  let s = 0;
  for (let e = 0; e < size; e++) s += (x[e] - (y ? y[e] : 0)) ** 2;
  return Math.sqrt(s);
}

/**
 * Run `samples` perturbed copies of the batch through the explainer, one explain call per sample,
 * handing each sample's perturbed input and maps to `fold`; progress counts samples.
 */
export async function foldSamples<O>(
  ctx: MetricContext<O>,
  samples: number,
  perturb: (s: number) => Tensor,
  fold: (s: number, input: Tensor, maps: Tensor) => void,
): Promise<void> {
  for (let s = 0; s < samples; s++) {
    ctx.checkAborted();
    const input = perturb(s);
    fold(s, input, await ctx.explain(input));
    ctx.progress(s + 1, samples);
  }
}
