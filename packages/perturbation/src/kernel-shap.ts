import { defineExplainer, type ExplainContext, type Explainer } from '@xlens/core';
import { blurSigmaSpec } from './internal/fill.js';
import { contextGeometry } from './internal/image.js';
import { solveSpd } from './internal/linear.js';
import {
  checkSegmentOptions,
  type Design,
  makeSegmentFill,
  type SegmentFill,
  type SegmentOptions,
  scoreDesigns,
  segmentDefaults,
  segmentFillSpec,
  segmentItems,
  segmentResult,
  segmentSpecs,
} from './internal/segments.js';

/** RNG stream of KernelSHAP's sampled coalitions: pair t is drawn from `sampleRng(shapStream, t)`. */
const shapStream = 13;

/** Options of `kernel-shap`. */
export interface KernelShapOptions extends SegmentOptions {
  /**
   * Coalitions evaluated per item besides the full and the empty one. With 2^M − 2 or more (M
   * segments) every coalition is evaluated and the values are the exact Shapley values.
   */
  readonly samples: number;
  /** What absent segments become (the reference input of the Shapley game): core's baselines or `segment-mean`. */
  readonly fill: SegmentFill;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

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
function coalitions(ctx: ExplainContext<unknown>, m: number, budget: number): Design & { w: Float64Array } {
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
  rows.forEach((row, r) => z.set(row, r * m));
  return { rows: rows.length, count: m, z, w: Float64Array.from(w) };
}

/**
 * Shapley values from scored coalitions: weighted least squares under the efficiency constraint
 * Σφ = f(x) − f(∅), solved by eliminating the last segment (Lundberg & Lee's constrained form).
 */
function shapleyValues(d: Design & { w: Float64Array }, f: Float64Array): Float64Array {
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

/**
 * Lundberg & Lee, 2017, "A Unified Approach to Interpreting Model Predictions", NeurIPS,
 * arXiv:1705.07874. KernelSHAP on superpixels: the Shapley values of the game whose players are
 * an item's segments and whose value is the score with absent segments taken from `fill`,
 * estimated by Shapley-kernel-weighted least squares over coalitions chosen as the `shap` library
 * does, under the constraint Σφ = f(x) − f(fill). With `samples` ≥ 2^M − 2 all coalitions are
 * used and the values are exact (`extras.exact`). Scores are the run's (logit by default).
 * `extras`: the segmentation and the values as for LIME, `baseValue` f(fill) and `fullValue` f(x).
 */
export const kernelShap: Explainer<KernelShapOptions> = defineExplainer<KernelShapOptions>({
  id: 'kernel-shap',
  family: 'perturbation',
  title: 'KernelSHAP',
  citation:
    'Lundberg & Lee, 2017, A Unified Approach to Interpreting Model Predictions, NeurIPS, arXiv:1705.07874',
  description: 'Shapley values of superpixels, estimated by kernel-weighted regression on coalitions.',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: { ...segmentDefaults, samples: 1000, fill: 'zero', blurSigma: 5 },
  options: {
    ...segmentSpecs,
    samples: { type: 'integer', doc: 'coalitions per item (all of them when ≥ 2^segments − 2)', min: 1 },
    fill: segmentFillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    checkSegmentOptions('kernel-shap', options, model, input);
  },
  async attribute(ctx) {
    const { options } = ctx;
    const g = contextGeometry(ctx);
    const segs = segmentItems(ctx, options, g);
    const fill = makeSegmentFill(ctx, options.fill, options.blurSigma, g, segs);
    const designs = segs.map(({ count }) => coalitions(ctx, count, options.samples));
    const scores = await scoreDesigns(ctx, g, segs, fill, designs, (out, items) => ctx.scores(out, items));
    const values = designs.map((d, i) => shapleyValues(d, scores[i]));
    const { map, extras } = segmentResult(g, segs, values);
    return {
      map,
      extras: {
        ...extras,
        baseValue: scores.map((s) => s[1]),
        fullValue: scores.map((s) => s[0]),
        exact: designs.map((d) => (d.rows - 2 >= 2 ** d.count - 2 ? 1 : 0)),
      },
    };
  },
});
