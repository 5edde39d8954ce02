import { defineMetric, type Metric } from '@xlens/core';
import { asCurves, perturbationCurves } from './internal/curves.js';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { patchUnits, unitCount } from './internal/pixels.js';
import { plane, trapezoid } from './internal/stats.js';

/** Options of `selectivity`. */
export interface SelectivityOptions {
  /** Side of a square patch. */
  readonly patchSize: number;
  /** What removed pixels become (core baseline spec). */
  readonly fill: unknown;
  /** σ of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/**
 * Montavon, Samek & Müller, 2018, "Methods for Interpreting and Understanding Deep Neural
 * Networks", Digital Signal Processing, arXiv:1706.07979, §5.2. Patches are removed (set to the
 * fill, all channels) one at a time in order of their summed relevance until none is left, and the
 * target's score is recorded; the score is the area under that curve over the fraction of pixels
 * removed. Lower is better: a selective explanation points first at what makes the score fall.
 * Quantus uses 8-pixel patches (the default 4 suits digit-sized images) and softmax probabilities
 * by default (`score: 'softmax'`); here the logit.
 */
export const selectivity: Metric<SelectivityOptions> = defineMetric<SelectivityOptions>({
  id: 'selectivity',
  category: 'faithfulness',
  title: 'Selectivity',
  citation:
    'Montavon, Samek & Müller, 2018, Methods for Interpreting and Understanding Deep Neural Networks, Digital Signal Processing, arXiv:1706.07979',
  description: 'Area under the target score as the most relevant patches are removed first.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'lower',
  range: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  curve: { x: 'fraction of pixels removed', y: 'target score' },
  stochastic: true,
  defaults: { patchSize: 4, fill: 'zero', blurSigma: 5 },
  options: {
    patchSize: { type: 'integer', doc: 'side of a square patch, in pixels', min: 1 },
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
      patchUnits(plane(maps.data, i, hw), ctx.height, ctx.width, options.patchSize, 'morf'),
    );
    const curves = await perturbationCurves(ctx, {
      units,
      counts: Int32Array.from({ length: unitCount(units[0]) + 1 }, (_, k) => k),
      from: ctx.stream.input,
      to: makeFill(ctx, options.fill, options.blurSigma),
    });
    return { scores: curves.x.map((x, i) => trapezoid(x, curves.y[i])), curves: asCurves(curves) };
  },
});
