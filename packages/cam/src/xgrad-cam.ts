import { defineExplainer, type Extras, type Tensor } from '@xlens/core';
import { weightedSum } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  layerDims,
  validateCam,
} from './internal/layers.js';
import { runCam } from './internal/run-cam.js';

/** Options of XGrad-CAM (the common CAM options). */
export type XGradCamOptions = CamCommonOptions;

/**
 * XGrad-CAM weights `w_k = Σ_ij (A^k_ij / Σ_ab A^k_ab) · ∂f_c/∂A^k_ij`: gradients averaged with
 * the activations as weights. A channel whose activations sum to 0 gets weight 0.
 */
export function xGradCamWeights(activations: Tensor, gradients: Tensor, layer = 'layer'): Float64Array {
  const { n, c, h, w } = layerDims(activations, layer);
  const hw = h * w;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) {
    let num = 0;
    let den = 0;
    for (let p = 0; p < hw; p++) {
      num += activations.data[i * hw + p] * gradients.data[i * hw + p];
      den += activations.data[i * hw + p];
    }
    out[i] = den !== 0 ? num / den : 0;
  }
  return out;
}

/**
 * XGrad-CAM — Fu, Hu, Dong, Guo, Gao, Liu, 2020, "Axiom-based Grad-CAM: Towards Accurate
 * Visualization and Explanation of CNNs", BMVC, arXiv:2008.02312.
 *
 * `M = ReLU(Σ_k w_k A^k)` with activation-weighted gradient means, chosen to satisfy the
 * sensitivity and conservation axioms as closely as possible.
 */
export const xGradCam = defineExplainer<XGradCamOptions, Extras, 'xgrad-cam', true>({
  id: 'xgrad-cam',
  family: 'cam',
  title: 'XGrad-CAM',
  citation:
    'Fu et al., 2020, Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs, BMVC; arXiv:2008.02312',
  description: 'Channels weighted by the activation-weighted mean of the target gradient.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('xgrad-cam'),
  attribute: (ctx) =>
    runCam(ctx, {
      gradients: true,
      coarse: ({ layer, activations, gradients }) =>
        weightedSum(activations, xGradCamWeights(activations, gradients!, layer.name), layer.name),
    }),
});
