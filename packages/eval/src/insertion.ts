import { defineMetric, type Metric } from '@xlens/core';
import { pixelGame } from './internal/curves.js';
import { blurSigmaSpec, checkFill, fillSpec } from './internal/fill.js';

/** Options of `insertion`. */
export interface InsertionOptions {
  /** Steps from the start image to the intact one (pixels per step: H·W / steps). */
  readonly steps: number;
  /** The start image the pixels are inserted into (core baseline spec). */
  readonly fill: unknown;
  /** σ of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/**
 * Petsiuk, Das & Saenko, 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
 * Models", BMVC, arXiv:1806.07421. Starting from a blurred copy of the image (the paper's: a
 * Gaussian of σ = 5 pixels), the pixels are put back (all channels) from most to least relevant
 * and the target's probability is recorded; the score is the area under that curve over the
 * fraction of pixels actually inserted. Higher is better.
 */
export const insertion: Metric<InsertionOptions> = defineMetric<InsertionOptions>({
  id: 'insertion',
  category: 'faithfulness',
  title: 'Insertion AUC',
  citation:
    'Petsiuk, Das & Saenko, 2018, RISE: Randomized Input Sampling for Explanation of Black-box Models, BMVC, arXiv:1806.07421',
  description:
    'Area under the target probability as the most relevant pixels are inserted first into a blurred image.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'higher',
  range: [0, 1],
  curve: { x: 'fraction of pixels inserted', y: 'target score' },
  score: 'softmax',
  stochastic: true,
  defaults: { steps: 100, fill: 'blur', blurSigma: 5 },
  options: {
    steps: { type: 'integer', doc: 'steps from the start image to the intact one', min: 1 },
    fill: { ...fillSpec, doc: `start image of the insertion; ${fillSpec.doc}` },
    blurSigma: blurSigmaSpec,
  },
  validate(options, request) {
    checkFill(options.fill, request);
  },
  compute(ctx) {
    return pixelGame(ctx, 'insert');
  },
});
