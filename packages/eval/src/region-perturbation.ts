import { defineMetric, type Metric } from '@xlens/core';
import { aopc } from './internal/aopc.js';
import { asCurves, perturbationCurves } from './internal/curves.js';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { patchUnits, unitCount } from './internal/pixels.js';
import { plane } from './internal/stats.js';

/** Options of `regionPerturbation`. */
export interface RegionPerturbationOptions {
  /** Most relevant regions first (`morf`) or least relevant first (`lerf`). */
  readonly order: 'morf' | 'lerf';
  /** Side of a square region. */
  readonly regionSize: number;
  /** Regions perturbed, one per step (L; capped at the number of regions). */
  readonly steps: number;
  /** What perturbed pixels become (core baseline spec; the paper draws uniform noise). */
  readonly fill: unknown;
  /** σ of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/**
 * Samek, Binder, Montavon, Lapuschkin & Müller, 2017, "Evaluating the Visualization of What a Deep
 * Neural Network Has Learned", IEEE TNNLS, arXiv:1509.06321. Regions of 9×9 pixels are replaced by
 * uniform noise one per step, in order of their summed relevance, for L = 100 steps; the score is
 * the AOPC, the mean drop f(x⁰) − f(xᵏ) over k = 0..L. MoRF: higher is better; LeRF: lower. The
 * regions are the cells of a grid (as in Quantus); the paper centres a region on each of the most
 * relevant pixels in turn. Quantus reads softmax probabilities by default (`score: 'softmax'`).
 */
export const regionPerturbation: Metric<RegionPerturbationOptions> = defineMetric<RegionPerturbationOptions>({
  id: 'region-perturbation',
  category: 'faithfulness',
  title: 'Region perturbation AOPC',
  citation:
    'Samek, Binder, Montavon, Lapuschkin & Müller, 2017, Evaluating the Visualization of What a Deep Neural Network Has Learned, IEEE TNNLS, arXiv:1509.06321',
  description: 'Mean drop of the target score as regions are perturbed in relevance order (MoRF).',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'higher',
  range: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  curve: { x: 'fraction of pixels perturbed', y: 'target score' },
  stochastic: true,
  defaults: { order: 'morf', regionSize: 9, steps: 100, fill: 'uniform', blurSigma: 5 },
  options: {
    order: {
      type: 'enum',
      doc: 'most (morf) or least (lerf) relevant regions first',
      values: ['morf', 'lerf'],
    },
    regionSize: { type: 'integer', doc: 'side of a square region, in pixels', min: 1 },
    steps: {
      type: 'integer',
      doc: 'regions perturbed, one per step (capped at the number of regions)',
      min: 1,
    },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, request) {
    checkFill(options.fill, request);
  },
  async compute(ctx) {
    const { maps, options } = ctx;
    const hw = ctx.height * ctx.width;
    const units = Array.from({ length: ctx.n }, (_, i) =>
      patchUnits(plane(maps.data, i, hw), ctx.height, ctx.width, options.regionSize, options.order),
    );
    const steps = Math.min(options.steps, unitCount(units[0]));
    const curves = await perturbationCurves(ctx, {
      units,
      counts: Int32Array.from({ length: steps + 1 }, (_, k) => k),
      from: ctx.stream.input,
      to: makeFill(ctx, options.fill, options.blurSigma),
    });
    return { scores: curves.y.map(aopc), curves: asCurves(curves) };
  },
});
