import { defineExplainer, type Extras } from '@xlens/core';
import { type PlainGradient, plainAttribute } from './plain-gradient.js';

/** Options of `deconvnet` (none). */
export type DeconvnetOptions = Record<never, never>;

/** DeconvNet as a plain gradient method: the gradient under the `deconvnet` ReLU rule. */
export const deconvnetPlain: PlainGradient<DeconvnetOptions> = {
  rules: { relu: 'deconvnet' },
  requires: ['gradients', 'relu-rules'],
  toMap: (_input, gradient) => gradient,
};

/**
 * Zeiler & Fergus, 2014, "Visualizing and Understanding Convolutional Networks", arXiv:1311.2901.
 * The backward signal crosses every ReLU as `relu(g)`, whatever the forward input; max-pooling
 * routes it to the forward winner (the "switches"). Input-shaped.
 */
export const deconvnet = defineExplainer<DeconvnetOptions, Extras, 'deconvnet'>({
  id: 'deconvnet',
  family: 'gradients',
  title: 'DeconvNet',
  citation:
    'Zeiler & Fergus, 2014, Visualizing and Understanding Convolutional Networks, ECCV, arXiv:1311.2901',
  description:
    'The input gradient where every ReLU passes back the positive part of the signal, ignoring the forward input.',
  requires: deconvnetPlain.requires,
  mapKind: 'input',
  defaults: {},
  options: {},
  attribute: plainAttribute(deconvnetPlain),
});
