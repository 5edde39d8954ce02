import { concatBatch, defineExplainer, type Explainer, sizeOf, type Tensor } from '@xlens/core';
import { type BaselineSpec, baselineNames, checkBaseline, makeBaseline } from './baselines.js';
import { type IntegrationScheme, integrationSchemes, quadrature } from './quadrature.js';

/** Options of `integrated-gradients`. */
export interface IntegratedGradientsOptions {
  /** Gradient evaluations along the path, per item. */
  readonly steps: number;
  /** Quadrature rule for the path integral. */
  readonly scheme: IntegrationScheme;
  /**
   * Baseline x̄: `zero`; `black` / `white` (the low / high end of `model.info.inputRange`, i.e. in
   * the model's own input space); `blur` (the input blurred with `blurSigma`); `uniform` (random in
   * `inputRange`, from the seed); a number; a path to a float32 `.npy` file; or a tensor.
   */
  readonly baseline: BaselineSpec;
  /** Standard deviation of the Gaussian blur of the `blur` baseline, in pixels. */
  readonly blurSigma: number;
}

/**
 * Sundararajan, Taly & Yan, 2017, "Axiomatic Attribution for Deep Networks", arXiv:1703.01365.
 * Integrated Gradients: (x − x̄) ⊙ ∫₀¹ ∂f_c(x̄ + α(x − x̄))/∂x dα, input-shaped. The path is
 * streamed in chunks of `batchSize` rows (steps × items). `extras.completenessGap` reports
 * Σ attribution − (f(x) − f(x̄)) per item, `extras.relativeCompletenessGap` the same as a fraction
 * of |f(x) − f(x̄)|; both shrink as the quadrature converges.
 */
export const integratedGradients: Explainer<IntegratedGradientsOptions> =
  defineExplainer<IntegratedGradientsOptions>({
    id: 'integrated-gradients',
    family: 'gradients',
    title: 'Integrated Gradients',
    citation:
      'Sundararajan, Taly & Yan, 2017, Axiomatic Attribution for Deep Networks, ICML, arXiv:1703.01365',
    description:
      'Input minus baseline times the gradient averaged along the straight path from the baseline to the input.',
    requires: ['gradients'],
    mapKind: 'input',
    stochastic: true,
    defaults: { steps: 50, scheme: 'gauss-legendre', baseline: 'zero', blurSigma: 5 },
    options: {
      steps: { type: 'integer', doc: 'gradient evaluations along the path per item', min: 1 },
      scheme: { type: 'enum', doc: 'quadrature rule of the path integral', values: integrationSchemes },
      baseline: {
        type: 'json',
        doc: `baseline: ${baselineNames.join(', ')} (black/white/uniform from model.info.inputRange), a number, a float32 .npy path or a tensor`,
      },
      blurSigma: { type: 'number', doc: 'Gaussian blur of the blur baseline', min: 0, unit: 'pixels' },
    },
    validate(options, model, input) {
      quadrature(options.scheme, options.steps);
      checkBaseline(options.baseline, model, input);
    },
    async attribute(ctx) {
      const { input, model, options } = ctx;
      const n = input.shape[0];
      const itemShape = input.shape.slice(1);
      const per = sizeOf(itemShape);
      const baseline = makeBaseline(options.baseline, model, input, options.blurSigma, () => ctx.rng(1));
      const { alphas, weights } = quadrature(options.scheme, options.steps);
      const sum = new Float64Array(n * per);
      const total = options.steps * n;
      // Rows are (step k, item i) pairs, step-major; only one chunk of rows exists at a time.
      for (let start = 0; start < total; start += ctx.batchSize) {
        ctx.checkAborted();
        const end = Math.min(total, start + ctx.batchSize);
        const rows = new Float32Array((end - start) * per);
        const items: number[] = [];
        for (let r = start; r < end; r++) {
          const k = Math.floor(r / n);
          const i = r % n;
          const a = alphas[k];
          const o = (r - start) * per;
          for (let j = 0; j < per; j++) {
            const b = baseline.data[i * per + j];
            rows[o + j] = b + a * (input.data[i * per + j] - b);
          }
          items.push(i);
        }
        const g = (await ctx.gradient({ input: { data: rows, shape: [end - start, ...itemShape] }, items }))
          .inputGradient!;
        for (let r = start; r < end; r++) {
          const w = weights[Math.floor(r / n)];
          const i = r % n;
          const o = (r - start) * per;
          for (let j = 0; j < per; j++) sum[i * per + j] += w * g.data[o + j];
        }
        ctx.progress(end, total);
      }
      const map = new Float32Array(n * per);
      for (let e = 0; e < map.length; e++) map[e] = (input.data[e] - baseline.data[e]) * sum[e];
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
      return { map: result, extras: { completenessGap: gap, relativeCompletenessGap: relative } };
    },
  });
