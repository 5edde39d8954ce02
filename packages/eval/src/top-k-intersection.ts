import { defineMetric, type Metric } from '@xlens/core';
import { comparePairs } from './internal/pairs.js';
import { argsort } from './internal/stats.js';

/** Options of `topKIntersection`. */
export interface TopKIntersectionOptions {
  /** Share of the pixels in each top set (at least one pixel). */
  readonly fraction: number;
  /** Rank pixels by magnitude rather than by signed value. */
  readonly absolute: boolean;
}

/**
 * Ghorbani, Abid & Zou, 2019, "Interpretation of Neural Networks Is Fragile", AAAI,
 * arXiv:1710.10547. The share of a map's k most important pixels that are also among the
 * reference map's k most important, k a `fraction` of the pixels (the paper's k = 1000 of 299×299,
 * 1.1%, the default); ranks by magnitude by default, as the paper's saliency is.
 */
export const topKIntersection: Metric<TopKIntersectionOptions> = defineMetric<TopKIntersectionOptions>({
  id: 'top-k-intersection',
  category: 'similarity',
  title: 'Top-k intersection',
  citation:
    'Ghorbani, Abid & Zou, 2019, Interpretation of Neural Networks Is Fragile, AAAI, arXiv:1710.10547',
  description: 'Share of the k most important pixels the two maps have in common.',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [0, 1],
  defaults: { fraction: 0.011, absolute: true },
  options: {
    fraction: {
      type: 'number',
      doc: 'share of the pixels in each top set (at least one pixel)',
      min: 0,
      max: 1,
    },
    absolute: { type: 'boolean', doc: 'rank by magnitude instead of signed value' },
  },
  async compute(ctx) {
    const { fraction, absolute } = ctx.options;
    const k = Math.max(1, Math.round(fraction * ctx.height * ctx.width));
    const top = (m: Float32Array): Int32Array => argsort(absolute ? m.map(Math.abs) : m, true).subarray(0, k);
    return comparePairs(ctx, (a, b) => {
      const inB = new Set(top(b));
      let common = 0;
      for (const p of top(a)) if (inB.has(p)) common++;
      return common / k;
    });
  },
});
