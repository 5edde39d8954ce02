import { defineMetric, type Metric, OptionError } from '@xlens/core';
import { comparePairs, minMax } from './internal/pairs.js';
import { pearson } from './internal/stats.js';

/** Options of `hog`. */
export interface HogOptions {
  /** Side of a HOG cell. */
  readonly cellSize: number;
  /** Orientation bins over 0–180°. */
  readonly bins: number;
}

/**
 * Dalal & Triggs' descriptor of a map scaled to [0, 1]: centred-difference gradients, unsigned
 * orientations voted into `bins` bins per cell (linear between the two nearest bin centres,
 * weighted by magnitude), 2×2-cell blocks at a one-cell stride normalised with L2-Hys (clip 0.2).
 */
export function hogFeatures(
  map: ArrayLike<number>,
  h: number,
  w: number,
  cell: number,
  bins: number,
): Float64Array {
  const a = minMax(map);
  const cy = Math.floor(h / cell);
  const cx = Math.floor(w / cell);
  const hist = new Float64Array(cy * cx * bins);
  for (let y = 0; y < cy * cell; y++)
    for (let x = 0; x < cx * cell; x++) {
      const gx = a[y * w + Math.min(w - 1, x + 1)] - a[y * w + Math.max(0, x - 1)];
      const gy = a[Math.min(h - 1, y + 1) * w + x] - a[Math.max(0, y - 1) * w + x];
      const mag = Math.hypot(gx, gy);
      if (mag === 0) continue;
      const angle = ((Math.atan2(gy, gx) * 180) / Math.PI + 180) % 180;
      const pos = angle / (180 / bins) - 0.5;
      const b0 = Math.floor(pos);
      const f = pos - b0;
      const base = (Math.floor(y / cell) * cx + Math.floor(x / cell)) * bins;
      hist[base + ((b0 + bins) % bins)] += mag * (1 - f);
      hist[base + ((b0 + 1) % bins)] += mag * f;
    }
  const by = Math.max(1, cy - 1);
  const bx = Math.max(1, cx - 1);
  const sy = Math.min(2, cy);
  const sx = Math.min(2, cx);
  const out = new Float64Array(by * bx * sy * sx * bins);
  let o = 0;
  for (let y = 0; y < by; y++)
    for (let x = 0; x < bx; x++) {
      const start = o;
      for (let dy = 0; dy < sy; dy++)
        for (let dx = 0; dx < sx; dx++)
          for (let b = 0; b < bins; b++) out[o++] = hist[((y + dy) * cx + x + dx) * bins + b];
      // L2-Hys: normalise, clip at 0.2, normalise again (ε keeps empty blocks at zero).
      for (let pass = 0; pass < 2; pass++) {
        let norm = 0;
        for (let i = start; i < o; i++) norm += out[i] * out[i];
        norm = Math.sqrt(norm + 1e-10);
        for (let i = start; i < o; i++) out[i] = pass === 0 ? Math.min(out[i] / norm, 0.2) : out[i] / norm;
      }
    }
  return out;
}

/**
 * Dalal & Triggs, 2005, "Histograms of Oriented Gradients for Human Detection", CVPR,
 * doi:10.1109/CVPR.2005.177; compared across maps by Adebayo et al., 2018, arXiv:1810.03292.
 * Pearson correlation of the HOG features of two maps (each scaled to [0, 1]): similar edge
 * structure scores near 1. A map without any gradient (constant) has no score.
 */
export const hog: Metric<HogOptions> = defineMetric<HogOptions>({
  id: 'hog',
  category: 'similarity',
  title: 'HOG similarity',
  citation:
    'Dalal & Triggs, 2005, Histograms of Oriented Gradients for Human Detection, CVPR, doi:10.1109/CVPR.2005.177',
  description: 'Correlation of the histograms of oriented gradients of two maps.',
  needs: ['maps', 'reference'],
  requires: [],
  direction: 'neutral',
  range: [-1, 1],
  defaults: { cellSize: 8, bins: 9 },
  options: {
    cellSize: { type: 'integer', doc: 'side of a HOG cell', min: 2 },
    bins: { type: 'integer', doc: 'orientation bins over 0–180°', min: 2 },
  },
  async compute(ctx) {
    const { cellSize, bins } = ctx.options;
    const { height: h, width: w } = ctx;
    if (cellSize > h || cellSize > w)
      throw new OptionError(
        'invalid-option',
        `hog: option cellSize = ${cellSize} is invalid; expected at most the map size ${h}×${w}`,
      );
    return comparePairs(ctx, (a, b) =>
      pearson(hogFeatures(a, h, w, cellSize, bins), hogFeatures(b, h, w, cellSize, bins)),
    );
  },
});
