import { defineExplainer, type Extras, type OptionSpecs, type Tensor } from '@xlens/core';
import { gradCamPlusPlusWeights } from './grad-cam-plus-plus.js';
import { finishCam, inputSize, weightedSum } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  targetLayers,
  validateCam,
} from './internal/layers.js';

/** Options of Smooth Grad-CAM++. */
export interface SmoothGradCamPlusPlusOptions extends CamCommonOptions {
  /** Noisy copies of each input whose derivatives are averaged. */
  readonly samples: number;
  /**
   * Noise standard deviation as a fraction of each item's value range (max − min), as SmoothGrad's
   * `sigma`.
   */
  readonly sigma: number;
}

const defaults: SmoothGradCamPlusPlusOptions = { ...camDefaults(true), samples: 16, sigma: 0.15 };

const options: OptionSpecs<SmoothGradCamPlusPlusOptions> = {
  ...camCommonOptionSpecs,
  samples: {
    type: 'integer',
    doc: 'noisy copies per input whose derivatives are averaged',
    min: 1,
    max: 10_000,
  },
  sigma: {
    type: 'number',
    doc: 'noise standard deviation as a fraction of each item’s max − min',
    min: 0,
    unit: 'fraction of range',
  },
};

/** RNG stream of the noise (`ctx.sampleRng(noiseStream, sample)`). */
const noiseStream = 0;

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
 * being explained. Sample s draws one standard-normal vector `z_s` shaped like an item from
 * `ctx.sampleRng(0, s)`, shared by every item: item i's copy is `x_i + sigma·(max_i − min_i)·z_s`,
 * the noise of SmoothGrad. It depends on (seed, s) only, never on the batch size or the item's
 * place in the batch, so a batch gives each item exactly the map it gets alone; with `sigma = 0`
 * the method equals Grad-CAM++ (up to rounding of the averages).
 */
export const smoothGradCamPlusPlus = defineExplainer<
  SmoothGradCamPlusPlusOptions,
  Extras,
  'smooth-grad-cam-plus-plus',
  true
>({
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
    const { samples, sigma } = ctx.options;
    const layers = targetLayers(ctx.model, ctx.options);
    const names = layers.map((l) => l.name);
    const clean = await ctx.capture(ctx.input, names);
    const n = ctx.input.shape[0];
    const per = ctx.input.data.length / n;
    const std = itemRanges(ctx.input).map((r) => r * sigma);
    const sums = names.map((name) =>
      [1, 2, 3].map(() => new Float64Array(clean.activations[name].data.length)),
    );
    const noiseOf = (sample: number): Float64Array => {
      const rng = ctx.sampleRng(noiseStream, sample);
      return rng.fillNormal(new Float64Array(per));
    };
    // Sample-major rows: row r is sample ⌊r / N⌋ of item r mod N, so one draw of z_s serves every
    // item, and each item's rows arrive in sample order (its sums add up in the same order alone).
    const input = (start: number, end: number): Tensor => {
      const rows = new Float32Array((end - start) * per);
      let z = noiseOf(Math.floor(start / n));
      for (let r = start; r < end; r++) {
        const b = r % n;
        if (r > start && b === 0) z = noiseOf(r / n);
        for (let j = 0; j < per; j++)
          rows[(r - start) * per + j] = ctx.input.data[b * per + j] + std[b] * z[j];
      }
      return { data: rows, shape: [end - start, ...ctx.input.shape.slice(1)] };
    };
    const stream = {
      rows: n * samples,
      items: (r: number) => r % n,
      input,
      wrtInput: false,
      wrtLayers: names,
    };
    await ctx.streamGradient(stream, (chunk) => {
      names.forEach((name, li) => {
        const grads = chunk.layerGradients[name];
        const m = grads.data.length / chunk.items.length;
        chunk.items.forEach((item, r) => {
          const dst = item * m;
          for (let j = 0; j < m; j++) {
            const v = grads.data[r * m + j];
            sums[li][0][dst + j] += v / samples;
            sums[li][1][dst + j] += (v * v) / samples;
            sums[li][2][dst + j] += (v * v * v) / samples;
          }
        });
      });
    });
    const maps = layers.map((layer, li) => {
      const a = clean.activations[layer.name];
      const [d1, d2, d3] = sums[li].map((s) => ({ data: Float32Array.from(s), shape: a.shape }));
      return weightedSum(a, gradCamPlusPlusWeights(a, d1, d2, d3, layer.name), layer.name);
    });
    return finishCam(maps, layers, ctx.options, inputSize(ctx.model, ctx.input));
  },
});
