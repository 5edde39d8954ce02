import { type BaselineSpec, defineExplainer, OptionError } from '@xlens/core';
import { blurSigmaSpec, checkFill, fillSpec } from './internal/fill.js';
import { geometry } from './internal/image.js';
import { type MaskObjective, objectiveSpec } from './internal/mask-descent.js';
import { type MaskGameExtras, playMaskGame } from './internal/mask-game.js';

/** Options of `meaningfulPerturbation`. */
export interface MeaningfulPerturbationOptions {
  /** `deletion` (SDR, the paper's main game) or `preservation` (SSR). */
  readonly objective: MaskObjective;
  /** Gradient steps (the paper: 300). */
  readonly steps: number;
  /** Adam learning rate (the paper: 0.1). */
  readonly learningRate: number;
  /** Weight λ_a of the mask's mean (the L1 area term). */
  readonly area: number;
  /** Weight λ_tv of the total variation. */
  readonly tv: number;
  /** Exponent β of the total variation (the paper: 3). */
  readonly tvBeta: number;
  /** Cells of the mask grid per side, upsampled bilinearly to the image (the paper: 28 for 224 px). */
  readonly cells: number;
  /** What perturbed pixels become: `blur` (the paper's main choice), a constant, `uniform` noise… (core's baselines). */
  readonly fill: BaselineSpec;
  /** Standard deviation of the `blur` fill, in pixels (the paper: 10 at 224 px). */
  readonly blurSigma: number;
}

/**
 * Fong & Vedaldi, 2017, "Interpretable Explanations of Black Boxes by Meaningful Perturbation",
 * ICCV, arXiv:1704.03296. A smooth mask m ∈ [0, 1] on a coarse grid, upsampled bilinearly, is
 * learned by gradient descent through the model's input gradient. Deletion game (the smallest
 * destroying region, SDR): minimise λ_a·mean(m) + λ_tv·TV_β(m) + s_c(Φ(x, 1−m)), where Φ(x, k)
 * keeps the image where k = 1 and shows the perturbation (blur, a constant, noise) where k = 0;
 * preservation game (the smallest sufficient region, SSR): minimise λ_a·mean(m) + λ_tv·TV_β(m) −
 * s_c(Φ(x, m)). s_c is the run's target score divided by its clean value, so the weights do not
 * depend on the score's scale; the paper uses the softmax probability (`score: 'softmax'`).
 * Projected Adam keeps m in [0, 1]. The map is m: 1 marks the region that destroys (deletion) or
 * suffices for (preservation) the score. Each step is one streamed gradient pass over the batch;
 * the paper's random jitter of the image is left out, so the result is deterministic.
 */
export const meaningfulPerturbation = defineExplainer<
  MeaningfulPerturbationOptions,
  MaskGameExtras,
  'meaningful-perturbation'
>({
  id: 'meaningful-perturbation',
  family: 'perturbation',
  title: 'Meaningful perturbation',
  citation:
    'Fong & Vedaldi, 2017, Interpretable Explanations of Black Boxes by Meaningful Perturbation, ICCV, arXiv:1704.03296',
  description:
    'A smooth mask learned by gradient descent: the smallest region whose blurring destroys (or whose keeping preserves) the score.',
  requires: ['gradients'],
  mapKind: 'pixel',
  defaults: {
    objective: 'deletion',
    steps: 300,
    learningRate: 0.1,
    area: 1,
    tv: 0.2,
    tvBeta: 3,
    cells: 16,
    fill: 'blur',
    blurSigma: 5,
  },
  options: {
    objective: objectiveSpec,
    steps: { type: 'integer', doc: 'gradient steps', min: 1 },
    learningRate: { type: 'number', doc: 'Adam learning rate', min: 0 },
    area: { type: 'number', doc: 'weight of the mask area (L1) term', min: 0 },
    tv: { type: 'number', doc: 'weight of the total-variation term', min: 0 },
    tvBeta: { type: 'number', doc: 'exponent of the total variation', min: 1 },
    cells: { type: 'integer', doc: 'mask grid cells per side', min: 1 },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    const g = geometry(model, input, 'meaningful-perturbation');
    if (options.cells > Math.min(g.h, g.w))
      throw new OptionError(
        'invalid-option',
        `meaningful-perturbation: option cells = ${options.cells} is invalid; expected at most ${Math.min(g.h, g.w)} (the image side)`,
      );
    checkFill(options.fill, model, input);
  },
  attribute(ctx) {
    const o = ctx.options;
    return playMaskGame(ctx, { ...o, cells: [o.cells, o.cells] });
  },
});
