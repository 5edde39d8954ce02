import type { Box } from '@xlens/core';
import { argsort } from './stats.js';

/**
 * The tightest box around the most valuable pixels that together hold `fraction` of the total of
 * `values` (non-negative); an empty box when the total is 0.
 */
export function energyBox(values: Float64Array, h: number, w: number, fraction: number): Box {
  let total = 0;
  for (const v of values) total += v;
  if (total <= 0) return [0, 0, 0, 0];
  const order = argsort(values, true);
  let x0 = w;
  let y0 = h;
  let x1 = 0;
  let y1 = 0;
  let held = 0;
  for (let k = 0; k < order.length && (k === 0 || held < fraction * total); k++) {
    const p = order[k];
    held += values[p];
    const x = p % w;
    const y = (p - x) / w;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + 1);
    y1 = Math.max(y1, y + 1);
  }
  return [x0, y0, x1, y1];
}
