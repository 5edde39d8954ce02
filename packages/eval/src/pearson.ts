import { defineMetric, type Metric } from '@xlens/core';
import { comparePairs } from './internal/pairs.js';
import { pearson as correlation } from './internal/stats.js';

/** Options of `pearson` (none). */
export type PearsonOptions = Record<never, never>;

/**
 * Pearson, 1895, "Notes on regression and inheritance in the case of two parents", Proc. R. Soc.
 * Lond., doi:10.1098/rspl.1895.0041; used to compare maps in the sanity checks of Adebayo et al.,
 * 2018, arXiv:1810.03292. Linear correlation of the signed values of two maps.
 */
export const pearson: Metric<PearsonOptions> = defineMetric<PearsonOptions>({
  id: 'pearson',
  category: 'similarity',
  title: 'Pearson correlation',
  citation:
    'Pearson, 1895, Notes on regression and inheritance in the case of two parents, Proc. R. Soc. Lond., doi:10.1098/rspl.1895.0041',
  description: 'Linear correlation of the signed values of two maps.',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [-1, 1],
  defaults: {},
  options: {},
  async compute(ctx) {
    return comparePairs(ctx, correlation);
  },
});
