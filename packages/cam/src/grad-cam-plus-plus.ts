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

/** Options of Grad-CAM++ (the common CAM options). */
export type GradCamPlusPlusOptions = CamCommonOptions;

/**
 * Grad-CAM++ channel weights from first, second and third derivative estimates `d1`, `d2`, `d3`
 * of the score w.r.t. the activations (all `N×C×h×w`):
 * `α_ij = d2_ij / (2·d2_ij + Σ_ab A_ab·d3_ij)`, `w_k = Σ_ij α_ij · ReLU(d1_ij)`.
 * With an exponential score, `d2 = g²` and `d3 = g³` (g the gradient), which is the closed form
 * of the paper (eq. 19 there); Smooth Grad-CAM++ passes averages over noisy inputs instead.
 * Where the denominator is 0, α is 0 (the location carries no second-order evidence).
 */
export function gradCamPlusPlusWeights(
  activations: Tensor,
  d1: Tensor,
  d2: Tensor,
  d3: Tensor,
  layer = 'layer',
): Float64Array {
  const { n, c, h, w } = layerDims(activations, layer);
  const hw = h * w;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) {
    const base = i * hw;
    let sumA = 0;
    for (let p = 0; p < hw; p++) sumA += activations.data[base + p];
    let wk = 0;
    for (let p = 0; p < hw; p++) {
      const g = d1.data[base + p];
      if (!(g > 0)) continue; // ReLU(d1) = 0: the term vanishes whatever α is
      const den = 2 * d2.data[base + p] + sumA * d3.data[base + p];
      if (den !== 0) wk += (d2.data[base + p] / den) * g;
    }
    out[i] = wk;
  }
  return out;
}

/** Element-wise power of a tensor. */
export function powerOf(t: Tensor, exponent: number): Tensor {
  return { data: t.data.map((v) => v ** exponent), shape: [...t.shape] };
}

/**
 * Grad-CAM++ — Chattopadhyay, Sarkar, Howlader, Balasubramanian, 2018, "Grad-CAM++: Generalized
 * Gradient-Based Visual Explanations for Deep Convolutional Networks", WACV, arXiv:1710.11063.
 *
 * `w_k = Σ_ij α_ij ReLU(g_ij)` with `α = g² / (2g² + Σ_ab A_ab g³)`: the closed form for an
 * exponential of the score (eq. 7–8 of the review), so only first-order gradients are needed.
 */
export const gradCamPlusPlus = defineExplainer<GradCamPlusPlusOptions, Extras, 'grad-cam-plus-plus', true>({
  id: 'grad-cam-plus-plus',
  family: 'cam',
  title: 'Grad-CAM++',
  citation:
    'Chattopadhyay et al., 2018, Grad-CAM++: Generalized Gradient-Based Visual Explanations for Deep CNNs, WACV; arXiv:1710.11063',
  description:
    'Channels weighted by a pixel-weighted sum of positive gradients, so several instances of a class all show.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('grad-cam-plus-plus'),
  attribute: (ctx) =>
    runCam(ctx, {
      gradients: true,
      coarse: ({ layer, activations, gradients }) => {
        const g = gradients!;
        const weights = gradCamPlusPlusWeights(activations, g, powerOf(g, 2), powerOf(g, 3), layer.name);
        return weightedSum(activations, weights, layer.name);
      },
    }),
});
