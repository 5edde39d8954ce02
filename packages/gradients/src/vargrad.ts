import { defineExplainer, type Extras } from '@xlens/core';
import { checkBaseOptions } from './noise-tunnel.js';
import { noiseTunnelOptionSpecs, noisyInputAttribute, type SmoothGradOptions } from './smoothgrad.js';

/** Options of `vargrad` (those of SmoothGrad). */
export type VarGradOptions = SmoothGradOptions;

/**
 * Adebayo, Gilmer, Goodfellow & Kim, 2018, "Local Explanation Methods for Deep Neural Networks
 * Lack Sensitivity to Parameter Values", ICLR workshop, arXiv:1810.03307. VarGrad: the per-value
 * (population) variance of a base method's maps over noisy copies of each item, noise as in
 * SmoothGrad. Wraps any explainer (default base: `gradient`); σ = 0 gives exactly zero.
 */
export const vargrad = defineExplainer<VarGradOptions, Extras, 'vargrad'>({
  id: 'vargrad',
  family: 'gradients',
  title: 'VarGrad',
  citation:
    'Adebayo, Gilmer, Goodfellow & Kim, 2018, Local Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Values, ICLR workshop, arXiv:1810.03307',
  description: 'The variance of a base attribution over noisy copies of the input.',
  requires: [],
  mapKind: 'input',
  stochastic: true,
  defaults: { base: 'gradient', baseOptions: {}, samples: 25, sigma: 0.15 },
  options: noiseTunnelOptionSpecs,
  validate: (options) => checkBaseOptions('vargrad', options.baseOptions),
  attribute: (ctx) => noisyInputAttribute(ctx, 'variance'),
});
