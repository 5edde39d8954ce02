import { defineMetric, type Metric } from '@xlens/core';
import { plane } from './internal/stats.js';
import { maskSize } from './internal/values.js';

/** Options of `pointingGame`. */
export interface PointingGameOptions {
  /** A maximum within this distance of the ground truth is a hit. */
  readonly tolerance: number;
}

/**
 * Zhang, Bargal, Lin, Brandt, Shen & Sclaroff, 2018, "Top-down Neural Attention by Excitation
 * Backprop", IJCV, arXiv:1608.00507. A hit (1) when the map's maximum lies on the ground truth,
 * with a tolerance of 15 pixels (the paper's), else a miss (0); the mean is the pointing accuracy.
 * When several pixels share the maximum, any of them within the tolerance is a hit (as in
 * Quantus). Quantus's default tolerance is 0: pass `tolerance: 0` to reproduce it.
 */
export const pointingGame: Metric<PointingGameOptions> = defineMetric<PointingGameOptions>({
  id: 'pointing-game',
  category: 'localisation',
  title: 'Pointing game',
  citation:
    'Zhang, Bargal, Lin, Brandt, Shen & Sclaroff, 2018, Top-down Neural Attention by Excitation Backprop, IJCV, arXiv:1608.00507',
  description: 'Whether the most relevant pixel falls on the ground truth (within a tolerance).',
  needs: ['maps', 'ground-truth'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  defaults: { tolerance: 15 },
  options: {
    tolerance: {
      type: 'number',
      doc: 'distance from the ground truth still counted as a hit',
      min: 0,
      unit: 'pixels',
    },
  },
  async compute(ctx) {
    const { maps, masks, width: w, height: h } = ctx;
    const t = ctx.options.tolerance;
    const r = Math.floor(t);
    const scores = new Float64Array(ctx.n);
    const warnings: string[] = [];
    for (let i = 0; i < ctx.n; i++) {
      const map = plane(maps.data, i, h * w);
      const mask = plane(masks.data, i, h * w);
      if (maskSize(mask) === 0) {
        scores[i] = Number.NaN;
        warnings.push(`item ${i}: the ground truth is empty; no score`);
        continue;
      }
      let max = Number.NEGATIVE_INFINITY;
      for (const v of map) max = Math.max(max, v);
      let hit = 0;
      for (let p = 0; p < h * w && !hit; p++) {
        if (map[p] !== max) continue;
        const x = p % w;
        const y = (p - x) / w;
        for (let dy = -r; dy <= r && !hit; dy++)
          for (let dx = -r; dx <= r && !hit; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (
              dx * dx + dy * dy <= t * t &&
              yy >= 0 &&
              yy < h &&
              xx >= 0 &&
              xx < w &&
              mask[yy * w + xx] === 1
            )
              hit = 1;
          }
      }
      scores[i] = hit;
    }
    return { scores, warnings };
  },
});
