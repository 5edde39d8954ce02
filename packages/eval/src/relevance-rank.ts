import { defineMetric, type Metric } from '@xlens/core';
import { argsort, plane } from './internal/stats.js';
import { maskSize, modeValues } from './internal/values.js';

/** Options of `relevanceRank`. */
export interface RelevanceRankOptions {
  /** Rank pixels by their signed relevance or by its magnitude. */
  readonly values: 'signed' | 'abs';
}

/**
 * Arras, Osman & Samek, 2022, "CLEVR-XAI: A benchmark dataset for the ground truth evaluation of
 * neural network explanations", Information Fusion, arXiv:2003.07258. Relevance rank accuracy:
 * with K the size of the ground-truth mask, the share of the K most relevant pixels that lie in
 * the mask. A map equal to the mask scores 1. Ties are broken by pixel order.
 */
export const relevanceRank: Metric<RelevanceRankOptions> = defineMetric<RelevanceRankOptions>({
  id: 'relevance-rank',
  category: 'localisation',
  title: 'Relevance rank accuracy',
  citation:
    'Arras, Osman & Samek, 2022, CLEVR-XAI: A benchmark dataset for the ground truth evaluation of neural network explanations, Information Fusion, arXiv:2003.07258',
  description: 'Share of the K most relevant pixels inside the ground-truth mask of K pixels.',
  needs: ['maps', 'ground-truth'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  defaults: { values: 'signed' },
  options: {
    values: { type: 'enum', doc: 'rank by signed relevance or by magnitude', values: ['signed', 'abs'] },
  },
  async compute(ctx) {
    const hw = ctx.height * ctx.width;
    const warnings: string[] = [];
    const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
      const mask = plane(ctx.masks.data, i, hw);
      const k = maskSize(mask);
      if (k === 0) {
        warnings.push(`item ${i}: the ground truth is empty; no score`);
        return Number.NaN;
      }
      const order = argsort(modeValues(plane(ctx.maps.data, i, hw), ctx.options.values), true);
      let inside = 0;
      for (let j = 0; j < k; j++) inside += mask[order[j]];
      return inside / k;
    });
    return { scores, warnings };
  },
});
