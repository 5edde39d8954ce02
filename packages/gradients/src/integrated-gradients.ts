import {
  type BaselineSpec,
  baselineNames,
  checkBaseline,
  concatBatch,
  defineExplainer,
  isBaselinePath,
  itemList,
  makeBaseline,
  sizeOf,
  type Tensor,
} from '@xlens/core';
import { type IntegrationScheme, integrationSchemes, quadrature } from './quadrature.js';

/** RNG stream of the `uniform` baseline (its one draw is sample 0). */
const uniformBaselineStream = 1;

/** Options of `integrated-gradients`. */
export interface IntegratedGradientsOptions {
  /** Gradient evaluations along the path, per item. */
  readonly steps: number;
  /** Quadrature rule for the path integral. */
  readonly scheme: IntegrationScheme;
  /**
   * Baseline x̄: `zero`; `black` / `white` (the low / high end of `model.info.inputRange`, i.e. in
   * the model's own input space); `blur` (the input blurred with `blurSigma`); `uniform` (random in
   * `inputRange`, one draw from the seed shared by every item); `mean` (each item's per-channel
   * mean); a number; a path to a `.npy` file, read through the run option `files`; or a tensor.
   * Core's `makeBaseline` builds it.
   */
  readonly baseline: BaselineSpec;
  /** Standard deviation of the Gaussian blur of the `blur` baseline, in pixels. */
  readonly blurSigma: number;
}

/**
 * Extras of `integrated-gradients`, per item: Σ attribution − (f(x) − f(x̄)), and the same as a
 * fraction of |f(x) − f(x̄)|.
 */
export type IntegratedGradientsExtras = {
  readonly completenessGap: number[];
  readonly relativeCompletenessGap: number[];
};

/**
 * Sundararajan, Taly & Yan, 2017, "Axiomatic Attribution for Deep Networks", arXiv:1703.01365.
 * Integrated Gradients: (x − x̄) ⊙ ∫₀¹ ∂f_c(x̄ + α(x − x̄))/∂x dα, input-shaped. The steps × items
 * rows of the path are built and differentiated one chunk of `batchSize` rows at a time; a batch
 * equals its items one by one. `extras.completenessGap` reports
 * Σ attribution − (f(x) − f(x̄)) per item, `extras.relativeCompletenessGap` the same as a fraction
 * of |f(x) − f(x̄)|; both shrink as the quadrature converges, and a warning names the items
 * where the relative gap exceeds the paper's 5%.
 */
export const integratedGradients = defineExplainer<
  IntegratedGradientsOptions,
  IntegratedGradientsExtras,
  'integrated-gradients'
>({
  id: 'integrated-gradients',
  family: 'gradients',
  title: 'Integrated Gradients',
  citation: 'Sundararajan, Taly & Yan, 2017, Axiomatic Attribution for Deep Networks, ICML, arXiv:1703.01365',
  description:
    'Input minus baseline times the gradient averaged along the straight path from the baseline to the input.',
  requires: ['gradients'],
  mapKind: 'input',
  stochastic: true,
  defaults: { steps: 50, scheme: 'gauss-legendre', baseline: 'zero', blurSigma: 5 },
  options: {
    steps: { type: 'integer', doc: 'gradient evaluations along the path per item', min: 1, max: 10_000 },
    scheme: { type: 'enum', doc: 'quadrature rule of the path integral', values: integrationSchemes },
    baseline: {
      type: 'json',
      doc: `baseline: ${baselineNames.join(', ')} (black/white/uniform from model.info.inputRange), a number, a .npy path (read through the run option files) or a tensor`,
    },
    blurSigma: { type: 'number', doc: 'Gaussian blur of the blur baseline', min: 0, unit: 'pixels' },
  },
  validate(options, model, input) {
    quadrature(options.scheme, options.steps);
    // validate has no run options, so a .npy path is read and checked at the top of attribute,
    // through ctx.files, before the first model pass.
    if (!isBaselinePath(options.baseline)) checkBaseline(options.baseline, model, input);
  },
  async attribute(ctx) {
    const { input, model, options } = ctx;
    const n = input.shape[0];
    const itemShape = input.shape.slice(1);
    const per = sizeOf(itemShape);
    const baseline = makeBaseline(options.baseline, model, input, {
      blurSigma: options.blurSigma,
      rng: ctx.sampleRng(uniformBaselineStream, 0),
      files: ctx.files,
    });
    const { alphas, weights } = quadrature(options.scheme, options.steps);
    const sum = new Float64Array(n * per);
    // x − x̄ once, in float64 (exact for float32 operands): rows and the final product reuse it.
    const diff = new Float64Array(n * per);
    for (let e = 0; e < diff.length; e++) diff[e] = input.data[e] - baseline.data[e];
    // Rows are (step k, item i) pairs, step-major (row r = k·n + i): each item meets its steps in
    // order, so its float64 sum does not depend on where the chunks split.
    let buffer: Float32Array | undefined;
    await ctx.streamGradient(
      {
        rows: options.steps * n,
        items: (r) => r % n,
        input: (start, end) => {
          // One chunk is alive at a time (ADR 0003): its buffer is reused for the next chunk.
          if (buffer?.length !== (end - start) * per) buffer = new Float32Array((end - start) * per);
          const rows = buffer;
          for (let r = start; r < end; r++) {
            const a = alphas[Math.floor(r / n)];
            const i = r % n;
            const from = baseline.data.subarray(i * per, (i + 1) * per);
            const step = diff.subarray(i * per, (i + 1) * per);
            const row = rows.subarray((r - start) * per, (r - start + 1) * per);
            for (let j = 0; j < per; j++) row[j] = from[j] + a * step[j];
          }
          return { data: rows, shape: [end - start, ...itemShape] };
        },
      },
      ({ start, end, inputGradient }) => {
        const g = inputGradient!.data;
        for (let r = start; r < end; r++) {
          const w = weights[Math.floor(r / n)];
          const i = r % n;
          const into = sum.subarray(i * per, (i + 1) * per);
          const grad = g.subarray((r - start) * per, (r - start + 1) * per);
          for (let j = 0; j < per; j++) into[j] += w * grad[j];
        }
      },
    );
    const map = new Float32Array(n * per);
    for (let e = 0; e < map.length; e++) map[e] = diff[e] * sum[e];
    const ends = await ctx.forward(concatBatch([input, baseline]));
    const scores = ctx.scores(ends, [...Array(n).keys(), ...Array(n).keys()]);
    const gap: number[] = [];
    const relative: number[] = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < per; j++) s += map[i * per + j];
      const delta = scores[i] - scores[n + i];
      gap.push(s - delta);
      relative.push(Math.abs(s - delta) / Math.max(Math.abs(delta), 1e-12));
    }
    const result: Tensor = { data: map, shape: [...input.shape] };
    return {
      map: result,
      extras: { completenessGap: gap, relativeCompletenessGap: relative },
      warnings: completenessWarnings(relative, options.steps),
    };
  },
});

/**
 * Sundararajan et al. check the approximation by completeness and find 20–300 steps enough to
 * bring it within 5%: past that, say so instead of returning a map that silently under-integrates.
 */
function completenessWarnings(relative: readonly number[], steps: number): string[] {
  const off = relative.flatMap((r, i) => (r > 0.05 ? [i] : []));
  if (off.length === 0) return [];
  const worst = Math.max(...off.map((i) => relative[i]));
  const items = itemList(off, relative.length);
  return [
    `integrated-gradients: Σ attribution is off f(x) − f(x̄) by up to ${Number((100 * worst).toPrecision(2))}% on ${items} (the paper checks for 5%): raise steps (now ${steps}); extras.relativeCompletenessGap has it per item`,
  ];
}
