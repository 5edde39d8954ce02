import { defineMetric, type Metric } from '@xlens/core';
import { comparePairs } from './internal/pairs.js';
import { spearman as rankCorrelation } from './internal/stats.js';

/** Options of `spearman` (none). */
export type SpearmanOptions = Record<never, never>;

/**
 * Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, "Sanity Checks for Saliency Maps",
 * NeurIPS, arXiv:1810.03292. Spearman rank correlation of a map with its reference map (ties
 * averaged), on the signed values.
 */
export const spearman: Metric<SpearmanOptions> = defineMetric<SpearmanOptions>({
  id: 'spearman',
  category: 'similarity',
  title: 'Spearman rank correlation',
  citation:
    'Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, Sanity Checks for Saliency Maps, NeurIPS, arXiv:1810.03292',
  description: 'Rank correlation of the signed values of two maps.',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [-1, 1],
  defaults: {},
  options: {},
  async compute(ctx) {
    return comparePairs(ctx, rankCorrelation);
  },
});
