import { defineExplainer, type Extras } from '@xlens/core';
import { elementwiseSum } from './internal/combine.js';
import { type CamCommonOptions, camCommonOptionSpecs, camDefaults, validateCam } from './internal/layers.js';
import { runCam } from './internal/run-cam.js';

/** Options of HiResCAM (the common CAM options). */
export type HiResCamOptions = CamCommonOptions;

/**
 * HiResCAM — Draelos & Carin, 2020, "Use HiResCAM instead of Grad-CAM for faithful explanations of
 * convolutional neural networks", arXiv:2011.08891.
 *
 * `M = Σ_k (∂f_c/∂A^k) ⊙ A^k`: the gradient multiplies the activations element-wise instead of
 * being averaged first. On the layer right before global average pooling it equals Grad-CAM.
 */
export const hiResCam = defineExplainer<HiResCamOptions, Extras, 'hires-cam', true>({
  id: 'hires-cam',
  family: 'cam',
  title: 'HiResCAM',
  citation:
    'Draelos & Carin, 2020, Use HiResCAM instead of Grad-CAM for faithful explanations of CNNs; arXiv:2011.08891',
  description: 'Sum over channels of gradient ⊙ activation at every location of a spatial layer.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('hires-cam'),
  attribute: (ctx) =>
    runCam(ctx, {
      gradients: true,
      coarse: ({ layer, activations, gradients }) => elementwiseSum(activations, gradients!, layer.name),
    }),
});
