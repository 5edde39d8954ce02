/**
 * @xlens/gradients — gradient-based attribution methods: Saliency, Gradient, Gradient ⊙ Input,
 * Integrated Gradients, the SmoothGrad / VarGrad / NoiseGrad / FusionGrad wrappers, Guided
 * Backprop, DeconvNet and FullGrad. Nothing registers itself: add `gradientMethods` to a registry.
 */
import type { AnyExplainer } from '@xlens/core';
import { deconvnet } from './deconvnet.js';
import { fullgrad } from './fullgrad.js';
import { fusiongrad } from './fusiongrad.js';
import { gradient } from './gradient.js';
import { gradientXInput } from './gradient-x-input.js';
import { guidedBackprop } from './guided-backprop.js';
import { integratedGradients } from './integrated-gradients.js';
import { noisegrad } from './noisegrad.js';

import { saliency } from './saliency.js';
import { smoothgrad } from './smoothgrad.js';
import { vargrad } from './vargrad.js';
import { xrai } from './xrai.js';

export { type DeconvnetOptions, deconvnet } from './deconvnet.js';
export { type FullGradOptions, fullgrad } from './fullgrad.js';
export { type FusionGradOptions, fusiongrad } from './fusiongrad.js';
export { type GradientOptions, gradient } from './gradient.js';
export { type GradientXInputOptions, gradientXInput } from './gradient-x-input.js';
export { type GuidedBackpropOptions, guidedBackprop } from './guided-backprop.js';
export { type IntegratedGradientsOptions, integratedGradients } from './integrated-gradients.js';
export type { BaseMethodOptions } from './noise-tunnel.js';
export { type NoiseGradOptions, noisegrad } from './noisegrad.js';
export { type IntegrationScheme, integrationSchemes, type Quadrature, quadrature } from './quadrature.js';
export { type SaliencyOptions, type SaliencyReduction, saliency } from './saliency.js';
export { type SmoothGradOptions, smoothgrad } from './smoothgrad.js';
export { type VarGradOptions, vargrad } from './vargrad.js';
export { type XraiExtras, type XraiOptions, xrai } from './xrai.js';

/** Every method of this package, to register: `new Registry([...gradientMethods])`. */
export const gradientMethods = [
  gradient,
  saliency,
  gradientXInput,
  integratedGradients,
  smoothgrad,
  vargrad,
  noisegrad,
  fusiongrad,
  guidedBackprop,
  deconvnet,
  fullgrad,
  xrai,
] as const satisfies readonly AnyExplainer[];
