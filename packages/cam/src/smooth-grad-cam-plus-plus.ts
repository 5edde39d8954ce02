import { defineExplainer, type OptionSpecs, type Tensor } from '@xlens/core';
import { gradCamPlusPlusWeights } from './grad-cam-plus-plus.js';
import { finishCam, inputSize, weightedSum } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  targetLayers,
  validateCam,
} from './internal/layers.js';
import { captureChunked } from './internal/passes.js';

/** Options of Smooth Grad-CAM++. */
export interface SmoothGradCamPlusPlusOptions extends CamCommonOptions {
  /** Noisy copies of each input whose derivatives are averaged. */
  readonly samples: number;
  /** Noise standard deviation as a fraction of each item's value range (max − min). */
  readonly noise: number;
}

const defaults: SmoothGradCamPlusPlusOptions = { ...camDefaults(true), samples: 16, noise: 0.15 };

const options: OptionSpecs<SmoothGradCamPlusPlusOptions> = {
  ...camCommonOptionSpecs,
  samples: { type: 'integer', doc: 'noisy copies per input whose derivatives are averaged', min: 1 },
  noise: {
    type: 'number',
    doc: 'noise standard deviation as a fraction of the item value range',
    min: 0,
    unit: 'fraction',
  },
};

/** Value range (max − min) of each item. */
function itemRanges(input: Tensor): Float64Array {
  const n = input.shape[0];
  const m = input.data.length / n;
  const out = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < m; j++) {
      lo = Math.min(lo, input.data[b * m + j]);
      hi = Math.max(hi, input.data[b * m + j]);
    }
    out[b] = hi - lo;
  }
  return out;
}

/**
 * Smooth Grad-CAM++ — Omeiza, Speakman, Cintas, Weldemariam, 2019, "Smooth Grad-CAM++: An
 * Enhanced Inference Level Visualization Technique for Deep Convolutional Neural Network Models",
 * arXiv:1908.01224.
 *
 * Grad-CAM++ whose first, second and third derivatives (g, g², g³ under the exponential-score
 * closed form) are each averaged over `samples` copies of the input with Gaussian noise
 * (eq. 9–10 of the review). The activations `A` are those of the clean input, which is the image
 * being explained. Noise is seeded (`ctx.rng`) and drawn row by row, so results do not depend on
 * `batchSize`; with `noise = 0` the method equals Grad-CAM++.
 */
export const smoothGradCamPlusPlus = defineExplainer<SmoothGradCamPlusPlusOptions>({
  id: 'smooth-grad-cam-plus-plus',
  family: 'cam',
  title: 'Smooth Grad-CAM++',
  citation:
    'Omeiza et al., 2019, Smooth Grad-CAM++: An Enhanced Inference Level Visualization Technique for Deep CNN Models; arXiv:1908.01224',
  description: 'Grad-CAM++ with its derivatives averaged over noisy copies of the input.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  stochastic: true,
  defaults,
  options,
  validate: validateCam('smooth-grad-cam-plus-plus'),
  async attribute(ctx) {
    const { samples, noise } = ctx.options;
    const layers = targetLayers(ctx.model, ctx.options);
    const names = layers.map((l) => l.name);
    const clean = await captureChunked(ctx, ctx.input, names);
    const n = ctx.input.shape[0];
    const per = ctx.input.data.length / n;
    const sigma = itemRanges(ctx.input).map((r) => r * noise);
    const sums = names.map((name) =>
      [1, 2, 3].map(() => new Float64Array(clean.activations[name].data.length)),
    );
    const rng = ctx.rng();
    const total = n * samples;
    for (let start = 0; start < total; start += ctx.batchSize) {
      const end = Math.min(total, start + ctx.batchSize);
      const rows = new Float32Array((end - start) * per);
      const items = new Int32Array(end - start);
      for (let r = start; r < end; r++) {
        const b = Math.floor(r / samples);
        items[r - start] = b;
        for (let j = 0; j < per; j++)
          rows[(r - start) * per + j] = ctx.input.data[b * per + j] + sigma[b] * rng.normal();
      }
      const g = await ctx.gradient({
        input: { data: rows, shape: [end - start, ...ctx.input.shape.slice(1)] },
        items,
        wrtInput: false,
        wrtLayers: names,
      });
      names.forEach((name, li) => {
        const grads = g.layerGradients[name];
        const m = grads.data.length / (end - start);
        for (let r = 0; r < end - start; r++) {
          const dst = items[r] * m;
          for (let j = 0; j < m; j++) {
            const v = grads.data[r * m + j];
            sums[li][0][dst + j] += v / samples;
            sums[li][1][dst + j] += (v * v) / samples;
            sums[li][2][dst + j] += (v * v * v) / samples;
          }
        }
      });
      ctx.progress(end, total);
    }
    const maps = layers.map((layer, li) => {
      const a = clean.activations[layer.name];
      const [d1, d2, d3] = sums[li].map((s) => ({ data: Float32Array.from(s), shape: a.shape }));
      return weightedSum(a, gradCamPlusPlusWeights(a, d1, d2, d3, layer.name), layer.name);
    });
    return finishCam(maps, ctx.options, inputSize(ctx.model, ctx.input));
  },
});
