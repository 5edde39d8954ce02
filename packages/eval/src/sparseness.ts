import { defineMetric, type Metric } from '@xlens/core';
import { plane } from './internal/stats.js';

/** Options of `sparseness` (none). */
export type SparsenessOptions = Record<never, never>;

/**
 * Chalasani, Chen, Chowdhury, Wu & Jha, 2020, "Concise Explanations of Neural Networks using
 * Adversarial Training", ICML, arXiv:1810.06583. The Gini index of the map's magnitudes:
 * G = Σ_k (2k − n − 1)·a_(k) / (n·Σ a) with a_(k) sorted ascending; 0 for a flat map, towards 1
 * when one pixel holds everything. An all-zero map has no score. Quantus divides by the maximum and
 * adds 1e-7 to every value first, which moves scores by about 1e-7.
 */
export const sparseness: Metric<SparsenessOptions> = defineMetric<SparsenessOptions>({
  id: 'sparseness',
  category: 'complexity',
  title: 'Sparseness (Gini index)',
  citation:
    'Chalasani, Chen, Chowdhury, Wu & Jha, 2020, Concise Explanations of Neural Networks using Adversarial Training, ICML, arXiv:1810.06583',
  description: 'Gini index of the absolute attributions: higher means fewer pixels carry the map.',
  needs: ['maps'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  defaults: {},
  options: {},
  async compute(ctx) {
    const hw = ctx.height * ctx.width;
    const warnings: string[] = [];
    const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
      const a = Float64Array.from(plane(ctx.maps.data, i, hw), Math.abs).sort();
      let weighted = 0;
      let total = 0;
      for (let k = 0; k < hw; k++) {
        weighted += (2 * (k + 1) - hw - 1) * a[k];
        total += a[k];
      }
      if (total === 0) warnings.push(`item ${i}: the map is all zeros; no score`);
      return total > 0 ? weighted / (hw * total) : Number.NaN;
    });
    return { scores, warnings };
  },
});
