import { defineMetric, type Metric } from '@xlens/core';
import { comparePairs } from './internal/pairs.js';
import { spearman } from './internal/stats.js';

/** Options of `spearmanAbs` (none). */
export type SpearmanAbsOptions = Record<never, never>;

/**
 * Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, "Sanity Checks for Saliency Maps",
 * NeurIPS, arXiv:1810.03292. Spearman rank correlation of the absolute values of two maps: the
 * paper reports it beside the signed one, since many methods' signs are not meaningful.
 */
export const spearmanAbs: Metric<SpearmanAbsOptions> = defineMetric<SpearmanAbsOptions>({
  id: 'spearman-abs',
  category: 'similarity',
  title: 'Spearman rank correlation of absolute values',
  citation:
    'Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, Sanity Checks for Saliency Maps, NeurIPS, arXiv:1810.03292',
  description: 'Rank correlation of the magnitudes of two maps.',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [-1, 1],
  defaults: {},
  options: {},
  async compute(ctx) {
    return comparePairs(ctx, (a, b) => spearman(a.map(Math.abs), b.map(Math.abs)));
  },
});
