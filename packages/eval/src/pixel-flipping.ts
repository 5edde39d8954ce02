import { defineMetric, type Metric } from '@xlens/core';
import { aopc } from './internal/aopc.js';
import { asCurves, perturbationCurves } from './internal/curves.js';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { pixelUnits, stepCounts } from './internal/pixels.js';
import { plane } from './internal/stats.js';

/** Options of `pixelFlipping`. */
export interface PixelFlippingOptions {
  /** Most relevant first (`morf`) or least relevant first (`lerf`). */
  readonly order: 'morf' | 'lerf';
  /** Steps; each flips H·W / steps pixels (steps = H·W flips one pixel at a time). */
  readonly steps: number;
  /** What flipped pixels become (core baseline spec; the paper draws uniform noise). */
  readonly fill: unknown;
  /** σ of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/**
 * Samek, Binder, Montavon, Lapuschkin & Müller, 2017, "Evaluating the Visualization of What a Deep
 * Neural Network Has Learned", IEEE TNNLS, arXiv:1509.06321 (pixel-flipping of Bach et al., 2015,
 * doi:10.1371/journal.pone.0130140). Pixels (all channels) are replaced by uniform noise in
 * relevance order and the target's score recorded; the score is the AOPC, the mean drop
 * f(x⁰) − f(xᵏ) over the steps k = 0..L. MoRF: higher is better (a faithful map makes the score
 * fall first); LeRF: lower is better. Quantus flips one channel value at a time in the
 * flattened C·H·W order; here a pixel's channels go together. Quantus reads softmax probabilities
 * by default (`score: 'softmax'`); here the logit, the network output the paper perturbs.
 */
export const pixelFlipping: Metric<PixelFlippingOptions> = defineMetric<PixelFlippingOptions>({
  id: 'pixel-flipping',
  category: 'faithfulness',
  title: 'Pixel-flipping AOPC',
  citation:
    'Samek, Binder, Montavon, Lapuschkin & Müller, 2017, Evaluating the Visualization of What a Deep Neural Network Has Learned, IEEE TNNLS, arXiv:1509.06321',
  description: 'Mean drop of the target score as pixels are flipped in relevance order (MoRF).',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'higher',
  range: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  curve: { x: 'fraction of pixels flipped', y: 'target score' },
  stochastic: true,
  defaults: { order: 'morf', steps: 100, fill: 'uniform', blurSigma: 5 },
  options: {
    order: {
      type: 'enum',
      doc: 'most (morf) or least (lerf) relevant pixels first',
      values: ['morf', 'lerf'],
    },
    steps: { type: 'integer', doc: 'steps; each flips H·W/steps pixels', min: 1 },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, request) {
    checkFill(options.fill, request);
  },
  async compute(ctx) {
    const { maps, options } = ctx;
    const hw = ctx.height * ctx.width;
    const units = Array.from({ length: ctx.n }, (_, i) => pixelUnits(plane(maps.data, i, hw), options.order));
    const curves = await perturbationCurves(ctx, {
      units,
      counts: stepCounts(hw, options.steps),
      from: ctx.stream.input,
      to: makeFill(ctx, options.fill, options.blurSigma),
    });
    return { scores: curves.y.map(aopc), curves: asCurves(curves) };
  },
});
