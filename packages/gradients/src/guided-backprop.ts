import { defineExplainer, type Extras } from '@xlens/core';
import { type PlainGradient, plainAttribute } from './plain-gradient.js';

/** Options of `guided-backprop` (none). */
export type GuidedBackpropOptions = Record<never, never>;

/** Guided Backprop as a plain gradient method: the gradient under the `guided` ReLU rule. */
export const guidedBackpropPlain: PlainGradient<GuidedBackpropOptions> = {
  rules: { relu: 'guided' },
  requires: ['gradients', 'relu-rules'],
  toMap: (_input, gradient) => gradient,
};

/**
 * Springenberg, Dosovitskiy, Brox & Riedmiller, 2015, "Striving for Simplicity: The All
 * Convolutional Net", arXiv:1412.6806. The backward signal crosses every ReLU as `g·[x>0]·[g>0]`;
 * input-shaped. Sanity checks find it largely independent of the top layers' weights (Adebayo et
 * al., 2018): treat it as an edge detector, not a class explanation.
 */
export const guidedBackprop = defineExplainer<GuidedBackpropOptions, Extras, 'guided-backprop'>({
  id: 'guided-backprop',
  family: 'gradients',
  title: 'Guided Backpropagation',
  citation:
    'Springenberg, Dosovitskiy, Brox & Riedmiller, 2015, Striving for Simplicity: The All Convolutional Net, ICLR workshop, arXiv:1412.6806',
  description: 'The input gradient where every ReLU passes back only positive signal at positive inputs.',
  requires: guidedBackpropPlain.requires,
  mapKind: 'input',
  defaults: {},
  options: {},
  attribute: plainAttribute(guidedBackpropPlain),
});
