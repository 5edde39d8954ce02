import { defineExplainer, type Extras, type Tensor } from '@xlens/core';
import { channelMeans, weightedSum } from './internal/combine.js';
import { type CamCommonOptions, camCommonOptionSpecs, camDefaults, validateCam } from './internal/layers.js';
import { type CamWeighting, runCam } from './internal/run-cam.js';

/** Options of Grad-CAM (the common CAM options). */
export type GradCamOptions = CamCommonOptions;

/** Grad-CAM channel weights: the spatial mean of `∂score/∂A^k` (eq. 5 of the review). */
export function gradCamWeights(gradients: Tensor, layer?: string): Float64Array {
  return channelMeans(gradients, layer);
}

/** Grad-CAM as a CAM weighting (Guided Grad-CAM reuses it). */
export const gradCamWeighting: CamWeighting<unknown> = {
  gradients: true,
  coarse: ({ layer, activations, gradients }) =>
    weightedSum(activations, gradCamWeights(gradients!, layer.name), layer.name),
};

/**
 * Grad-CAM — Selvaraju, Cogswell, Das, Vedantam, Parikh, Batra, 2017 (ICCV; IJCV 2020),
 * arXiv:1610.02391, DOI 10.1007/s11263-019-01228-7.
 *
 * `M = ReLU(Σ_k w_k A^k)` with `w_k = mean_ij ∂f_c/∂A^k_ij`. The ReLU is an option so negative
 * evidence can be shown.
 */
export const gradCam = defineExplainer<GradCamOptions, Extras, 'grad-cam', true>({
  id: 'grad-cam',
  family: 'cam',
  title: 'Grad-CAM',
  citation:
    'Selvaraju et al., 2017, Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization, ICCV; arXiv:1610.02391',
  description:
    'Channels of a spatial layer weighted by the spatial mean of the target gradient; positive part upsampled.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('grad-cam'),
  attribute: (ctx) => runCam(ctx, gradCamWeighting),
});
