import { defineMetric, type Metric } from '@xlens/core';
import { plane } from './internal/stats.js';
import { massInside, modeValues, type ValueMode, valueModeSpec } from './internal/values.js';

/** Options of `relevanceMass`. */
export interface RelevanceMassOptions {
  /** Which values count as relevance. */
  readonly values: ValueMode;
}

/**
 * Arras, Osman & Samek, 2022, "CLEVR-XAI: A benchmark dataset for the ground truth evaluation of
 * neural network explanations", Information Fusion, arXiv:2003.07258. Relevance mass accuracy:
 * the share of the relevance that falls inside the ground-truth mask. The paper pools each pixel
 * to a non-negative relevance (its code then takes |R|): `positive` (default) counts the positive
 * part, `abs` the magnitude; Quantus sums the signed values (after dividing by the maximum, which
 * does not change the ratio): `signed`.
 */
export const relevanceMass: Metric<RelevanceMassOptions> = defineMetric<RelevanceMassOptions>({
  id: 'relevance-mass',
  category: 'localisation',
  title: 'Relevance mass accuracy',
  citation:
    'Arras, Osman & Samek, 2022, CLEVR-XAI: A benchmark dataset for the ground truth evaluation of neural network explanations, Information Fusion, arXiv:2003.07258',
  description: 'Share of the relevance inside the ground-truth mask.',
  needs: ['maps', 'ground-truth'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  defaults: { values: 'positive' },
  options: { values: valueModeSpec(['positive', 'abs', 'signed'], 'which values count as relevance') },
  async compute(ctx) {
    const hw = ctx.height * ctx.width;
    const warnings: string[] = [];
    const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
      const s = massInside(
        modeValues(plane(ctx.maps.data, i, hw), ctx.options.values),
        plane(ctx.masks.data, i, hw),
      );
      if (Number.isNaN(s)) warnings.push(`item ${i}: the map has no relevance; no score`);
      return s;
    });
    return { scores, warnings };
  },
});
