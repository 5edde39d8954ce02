import { boxesToMasks, defineMetric, type Metric } from '@xlens/core';
import { plane } from './internal/stats.js';
import { massInside, modeValues } from './internal/values.js';

/** Options of `energyPointingGame` (none). */
export type EnergyPointingGameOptions = Record<never, never>;

/**
 * Wang, Wang, Du, Yang, Zhang, Ding, Mardziel & Hu, 2020, "Score-CAM: Score-Weighted Visual
 * Explanations for Convolutional Neural Networks", CVPR Workshops, arXiv:1910.01279. The share of
 * the map's positive energy inside the ground-truth bounding box (masks are turned into their
 * tightest box first, as the paper works with boxes).
 */
export const energyPointingGame: Metric<EnergyPointingGameOptions> = defineMetric<EnergyPointingGameOptions>({
  id: 'energy-pointing-game',
  category: 'localisation',
  title: 'Energy-based pointing game',
  citation:
    'Wang et al., 2020, Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks, CVPR Workshops, arXiv:1910.01279',
  description: 'Share of the positive energy inside the ground-truth bounding box.',
  needs: ['maps', 'ground-truth'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  defaults: {},
  options: {},
  async compute(ctx) {
    const hw = ctx.height * ctx.width;
    const boxMasks = boxesToMasks(ctx.boxes, ctx.height, ctx.width);
    const warnings: string[] = [];
    const scores = Float64Array.from({ length: ctx.n }, (_, i) => {
      const s = massInside(modeValues(plane(ctx.maps.data, i, hw), 'positive'), plane(boxMasks.data, i, hw));
      if (Number.isNaN(s)) warnings.push(`item ${i}: the map has no positive energy; no score`);
      return s;
    });
    return { scores, warnings };
  },
});
