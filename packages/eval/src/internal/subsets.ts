import type { Rng } from '@xlens/core';

/**
 * `n` distinct indices of `0..total−1` drawn uniformly by a partial Fisher–Yates shuffle of
 * `scratch` (reset here, so the draw depends on the rng only).
 */
export function randomSubset(rng: Rng, total: number, n: number, scratch: Int32Array): Int32Array {
  for (let i = 0; i < total; i++) scratch[i] = i;
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(total - i);
    const t = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = t;
  }
  return scratch.subarray(0, n);
}
