import { defineMetric, type Metric } from '@xlens/core';
import { pixelGame } from './internal/curves.js';
import { blurSigmaSpec, checkFill, fillSpec } from './internal/fill.js';

/** Options of `deletion`. */
export interface DeletionOptions {
  /** Steps from the intact image to the fully deleted one (pixels per step: H·W / steps). */
  readonly steps: number;
  /** What deleted pixels become (core baseline spec). */
  readonly fill: unknown;
  /** σ of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/**
 * Petsiuk, Das & Saenko, 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
 * Models", BMVC, arXiv:1806.07421. Pixels are deleted (all channels) from most to least relevant
 * and the target's probability is recorded; the score is the area under that curve, its x axis the
 * fraction of pixels actually deleted (so a last, partial step counts for what it is). Lower is
 * better: a faithful map makes the probability fall fast. The paper deletes 224 pixels per step on
 * 224×224 images into zeros and reads the softmax probability; `steps` sets the step here.
 */
export const deletion: Metric<DeletionOptions> = defineMetric<DeletionOptions>({
  id: 'deletion',
  category: 'faithfulness',
  title: 'Deletion AUC',
  citation:
    'Petsiuk, Das & Saenko, 2018, RISE: Randomized Input Sampling for Explanation of Black-box Models, BMVC, arXiv:1806.07421',
  description: 'Area under the target probability as the most relevant pixels are deleted first.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'lower',
  range: [0, 1],
  curve: { x: 'fraction of pixels deleted', y: 'target score' },
  score: 'softmax',
  stochastic: true,
  defaults: { steps: 100, fill: 'zero', blurSigma: 5 },
  options: {
    steps: { type: 'integer', doc: 'steps from the intact to the fully deleted image', min: 1 },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, request) {
    checkFill(options.fill, request);
  },
  compute(ctx) {
    return pixelGame(ctx, 'delete');
  },
});
