import { defineExplainer, type Extras, zipWith } from '@xlens/core';
import { type PlainGradient, plainAttribute } from './plain-gradient.js';

/** Options of `gradient-x-input` (none). */
export type GradientXInputOptions = Record<never, never>;

/** Gradient ⊙ input as a plain gradient method. */
export const gradientXInputPlain: PlainGradient<GradientXInputOptions> = {
  requires: ['gradients'],
  toMap: (input, gradient) => zipWith(input, gradient, (x, g) => x * g),
};

/**
 * Shrikumar, Greenside, Shcherbina & Kundaje, 2016, "Not Just a Black Box", arXiv:1605.01713.
 * Gradient ⊙ Input: x ⊙ ∂f_c/∂x, input-shaped. Not input-invariant: a constant shift of the input
 * absorbed by the first bias changes the map (Kindermans et al., 2019).
 */
export const gradientXInput = defineExplainer<GradientXInputOptions, Extras, 'gradient-x-input'>({
  id: 'gradient-x-input',
  family: 'gradients',
  title: 'Gradient ⊙ Input',
  citation:
    'Shrikumar, Greenside, Shcherbina & Kundaje, 2016, Not Just a Black Box: Learning Important Features Through Propagating Activation Differences, arXiv:1605.01713',
  description: 'Each input value times the gradient of the target score at it; signed, input-shaped.',
  requires: gradientXInputPlain.requires,
  mapKind: 'input',
  defaults: {},
  options: {},
  attribute: plainAttribute(gradientXInputPlain),
});
