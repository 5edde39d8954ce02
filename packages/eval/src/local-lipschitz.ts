import { defineMetric, type Metric } from '@xlens/core';
import { addScaledNoise, foldSamples, itemDistance, itemRanges } from './internal/robust.js';

/** Options of `localLipschitz`. */
export interface LocalLipschitzOptions {
  /** Perturbed copies per item. */
  readonly samples: number;
  /** Gaussian noise standard deviation, as a fraction of each item's value range. */
  readonly sigma: number;
}

/** RNG stream of the noise images (sample = perturbation index). */
const noiseStream = 37;

/**
 * Alvarez-Melis & Jaakkola, 2018, "On the Robustness of Interpretability Methods", ICML Workshop
 * on Human Interpretability, arXiv:1806.08049. The local Lipschitz estimate
 * max_x' ‖φ(x) − φ(x')‖₂ / ‖x − x'‖₂ over points x' near x, found by sampling Gaussian
 * perturbations (as Quantus does; the paper also optimises). Lower is better; 0 for an explainer
 * whose map does not depend on the input.
 */
export const localLipschitz: Metric<LocalLipschitzOptions> = defineMetric<LocalLipschitzOptions>({
  id: 'local-lipschitz',
  category: 'robustness',
  title: 'Local Lipschitz estimate',
  citation:
    'Alvarez-Melis & Jaakkola, 2018, On the Robustness of Interpretability Methods, ICML Workshop on Human Interpretability, arXiv:1806.08049',
  description: 'Largest ratio of map change to input change over nearby inputs.',
  needs: ['model', 'explainer'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  stochastic: true,
  defaults: { samples: 10, sigma: 0.1 },
  options: {
    samples: { type: 'integer', doc: 'perturbed copies per item', min: 1 },
    sigma: {
      type: 'number',
      doc: 'Gaussian noise standard deviation',
      min: 0,
      unit: 'fraction of each item’s value range',
    },
  },
  async compute(ctx) {
    const { options, n } = ctx;
    const input = ctx.stream.input;
    const hw = ctx.height * ctx.width;
    const per = input.data.length / n;
    const ranges = itemRanges(input, n);
    const base = await ctx.explain(input);
    const scores = new Float64Array(n);
    await foldSamples(
      ctx,
      options.samples,
      (s) =>
        addScaledNoise(
          input,
          ctx.sampleRng(noiseStream, s).fillNormal(new Float32Array(per)),
          options.sigma,
          ranges,
        ),
      (_s, x, maps) => {
        for (let i = 0; i < n; i++) {
          const dx = itemDistance(x, input, i, per);
          if (dx > 0) scores[i] = Math.max(scores[i], itemDistance(maps, base, i, hw) / dx);
        }
      },
    );
    return { scores };
  },
});
