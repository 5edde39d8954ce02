import type { ExplainContext } from '@xlens/core';
import { solveSpd } from './linear.js';
import type { Design } from './segments.js';

/** RNG stream of KernelSHAP's sampled coalitions: pair t is drawn from `sampleRng(shapStream, t)`. */
const shapStream = 13;

/** `Design` with a Shapley-kernel weight per row. */
export type WeightedDesign = Design & { readonly w: Float64Array };

function binomial(n: number, k: number): number {
  let r = 1;
  for (let j = 1; j <= k; j++) r = (r * (n - k + j)) / j;
  return r;
}

/**
 * The coalitions of an item with `m` segments and their Shapley-kernel weights, as the `shap`
 * library chooses them: whole subset sizes (small and their complements first) while the budget
 * covers them, the rest sampled by size in complementary pairs, pair t from its own RNG. Row 0 is
 * the full coalition and row 1 the empty one (weights unused: the constraint handles them).
 */
export function coalitions(ctx: ExplainContext<unknown>, m: number, budget: number): WeightedDesign {
  const rows: Uint8Array[] = [Uint8Array.from({ length: m }, () => 1), new Uint8Array(m)];
  const w: number[] = [0, 0];
  const add = (on: readonly number[], weight: number, complement: boolean) => {
    const z = new Uint8Array(m);
    for (const j of on) z[j] = 1;
    rows.push(z);
    w.push(weight);
    if (complement) {
      rows.push(z.map((v) => 1 - v));
      w.push(weight);
    }
  };
  const sizes = Math.ceil((m - 1) / 2);
  const paired = Math.floor((m - 1) / 2);
  const kernel = Array.from(
    { length: sizes },
    (_, k) => ((m - 1) / ((k + 1) * (m - k - 1))) * (k < paired ? 2 : 1),
  );
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let k = 0; k < sizes; k++) kernel[k] /= total;
  let left = budget;
  let full = 0;
  const remaining = kernel.slice();
  for (let k = 1; k <= sizes; k++) {
    const count = binomial(m, k) * (k <= paired ? 2 : 1);
    if ((left * remaining[k - 1]) / count < 1 - 1e-8) break;
    full++;
    left -= count;
    const rest = 1 - remaining[k - 1];
    if (rest > 0) for (let j = 0; j < sizes; j++) remaining[j] /= rest;
    const weight = kernel[k - 1] / binomial(m, k) / (k <= paired ? 2 : 1);
    // Every subset of size k, in lexicographic order.
    const pick = Array.from({ length: k }, (_, j) => j);
    for (;;) {
      add(pick, weight, k <= paired);
      let j = k - 1;
      while (j >= 0 && pick[j] === m - k + j) j--;
      if (j < 0) break;
      pick[j]++;
      for (let q = j + 1; q < k; q++) pick[q] = pick[q - 1] + 1;
    }
  }
  const exact = full === sizes;
  if (!exact && left > 0) {
    const probs = kernel.slice(full).map((p, j) => (j + full < paired ? p / 2 : p));
    const norm = probs.reduce((a, b) => a + b, 0);
    const first = w.length;
    const order = Array.from({ length: m }, (_, j) => j);
    for (let t = 0; left > 0; t++) {
      const rng = ctx.sampleRng(shapStream, t);
      let u = rng.uniform() * norm;
      let j = 0;
      while (j < probs.length - 1 && u >= probs[j]) u -= probs[j++];
      const size = j + full + 1;
      for (let q = 0; q < size; q++) {
        const r = q + rng.int(m - q);
        [order[q], order[r]] = [order[r], order[q]];
      }
      const pair = size <= paired && left > 1;
      add(order.slice(0, size), 1, pair);
      left -= pair ? 2 : 1;
      order.sort((a, b) => a - b);
    }
    const share = kernel.slice(full).reduce((a, b) => a + b, 0);
    const sum = w.length - first;
    for (let r = first; r < w.length; r++) w[r] = (w[r] * share) / sum;
  }
  const z = new Uint8Array(rows.length * m);
  for (const [r, row] of rows.entries()) z.set(row, r * m);
  return { rows: rows.length, count: m, z, w: Float64Array.from(w) };
}

/**
 * Shapley values from scored coalitions: weighted least squares under the efficiency constraint
 * Σφ = f(x) − f(∅), solved by eliminating the last segment (Lundberg & Lee's constrained form).
 */
export function shapleyValues(d: WeightedDesign, f: Float64Array): Float64Array {
  const m = d.count;
  const delta = f[0] - f[1];
  if (m === 1) return Float64Array.of(delta);
  const k = m - 1;
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  const v = new Float64Array(k);
  for (let r = 2; r < d.rows; r++) {
    const zl = d.z[r * m + k];
    for (let j = 0; j < k; j++) v[j] = d.z[r * m + j] - zl;
    const t = f[r] - f[1] - zl * delta;
    for (let j = 0; j < k; j++) {
      b[j] += d.w[r] * v[j] * t;
      for (let q = 0; q < k; q++) a[j * k + q] += d.w[r] * v[j] * v[q];
    }
  }
  const head = solveSpd(a, b, k);
  const phi = new Float64Array(m);
  phi.set(head);
  phi[k] = delta - head.reduce((s, x) => s + x, 0);
  return phi;
}
