import { defineExplainer, type Extras } from '@xlens/core';
import { type PlainGradient, plainAttribute } from './plain-gradient.js';

/** Options of `gradient` (none). */
export type GradientOptions = Record<never, never>;

/** The raw input gradient as a plain gradient method. */
export const gradientPlain: PlainGradient<GradientOptions> = {
  requires: ['gradients'],
  toMap: (_input, gradient) => gradient,
};

/**
 * Simonyan, Vedaldi & Zisserman, 2014, "Deep Inside Convolutional Networks", arXiv:1312.6034.
 * The raw gradient ∂f_c/∂x of the target score, signed and input-shaped (in the model's layout).
 */
export const gradient = defineExplainer<GradientOptions, Extras, 'gradient'>({
  id: 'gradient',
  family: 'gradients',
  title: 'Gradient',
  citation:
    'Simonyan, Vedaldi & Zisserman, 2014, Deep Inside Convolutional Networks, ICLR workshop, arXiv:1312.6034',
  description: 'The gradient of the target score with respect to each input value, signed and input-shaped.',
  requires: gradientPlain.requires,
  mapKind: 'input',
  defaults: {},
  options: {},
  attribute: plainAttribute(gradientPlain),
});
