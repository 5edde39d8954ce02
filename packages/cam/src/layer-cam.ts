import { defineExplainer, type Extras, relu } from '@xlens/core';
import { elementwiseSum } from './internal/combine.js';
import { type CamCommonOptions, camCommonOptionSpecs, camDefaults, validateCam } from './internal/layers.js';
import { runCam } from './internal/run-cam.js';

/** Options of Layer-CAM (the common CAM options). */
export type LayerCamOptions = CamCommonOptions;

/**
 * Layer-CAM — Jiang, Zhang, Hou, Cheng, Wei, 2021, "LayerCAM: Exploring Hierarchical Class
 * Activation Maps for Localization", IEEE TIP 30, DOI 10.1109/TIP.2021.3089943.
 *
 * `M = ReLU(Σ_k ReLU(∂f_c/∂A^k) ⊙ A^k)`: every location gets its own weight, the positive
 * gradient there, which keeps shallow layers' fine detail. Fusing several layers (`layers`) is
 * what the paper does with it.
 */
export const layerCam = defineExplainer<LayerCamOptions, Extras, 'layer-cam', true>({
  id: 'layer-cam',
  family: 'cam',
  title: 'Layer-CAM',
  citation:
    'Jiang et al., 2021, LayerCAM: Exploring Hierarchical Class Activation Maps for Localization, IEEE TIP; DOI 10.1109/TIP.2021.3089943',
  description: 'Activations weighted location by location with the positive part of the target gradient.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('layer-cam'),
  attribute: (ctx) =>
    runCam(ctx, {
      gradients: true,
      coarse: ({ layer, activations, gradients }) =>
        elementwiseSum(activations, relu(gradients!), layer.name),
    }),
});
