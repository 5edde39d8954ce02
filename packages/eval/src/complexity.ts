import { defineMetric, type Metric } from '@xlens/core';
import { plane } from './internal/stats.js';

/** Options of `complexity` (none). */
export type ComplexityOptions = Record<never, never>;

/**
 * Bhatt, Weller & Moura, 2020, "Evaluating and Aggregating Feature-based Model Explanations",
 * IJCAI, arXiv:2005.00631. The entropy (natural log) of the fractional contributions
 * P_i = |a_i| / Σ|a|, with 0·ln 0 = 0: 0 when one pixel holds everything, ln(H·W) for a flat map.
 * An all-zero map has no score. Quantus adds 1e-12 inside the logarithm.
 */
export const complexity: Metric<ComplexityOptions> = defineMetric<ComplexityOptions>({
  id: 'complexity',
  category: 'complexity',
  title: 'Complexity (entropy)',
  citation:
    'Bhatt, Weller & Moura, 2020, Evaluating and Aggregating Feature-based Model Explanations, IJCAI, arXiv:2005.00631',
  description: 'Entropy of the share of each pixel in the total absolute attribution: lower is simpler.',
  needs: ['maps'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  defaults: {},
  options: {},
  async compute(ctx) {
    const hw = ctx.height * ctx.width;
    const warnings: string[] = [];
    const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
      const a = plane(ctx.maps.data, i, hw);
      let total = 0;
      for (const v of a) total += Math.abs(v);
      if (total === 0) {
        warnings.push(`item ${i}: the map is all zeros; no score`);
        return Number.NaN;
      }
      let h = 0;
      for (const v of a) {
        const p = Math.abs(v) / total;
        if (p > 0) h -= p * Math.log(p);
      }
      return h;
    });
    return { scores, warnings };
  },
});
