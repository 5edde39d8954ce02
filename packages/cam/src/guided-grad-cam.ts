import {
  batchStream,
  defineExplainer,
  type Extras,
  type OptionSpecs,
  sliceBatch,
  type Tensor,
} from '@xlens/core';
import { gradCamWeighting } from './grad-cam.js';
import { finishCam, inputSize } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  targetLayers,
  validateCam,
} from './internal/layers.js';
import { camCoarseMaps } from './internal/run-cam.js';

/**
 * Options of Guided Grad-CAM: the Grad-CAM options without `upsample` (the product with Guided
 * Backprop needs the map at input resolution; the coarse Grad-CAM is in `coarse`).
 */
export type GuidedGradCamOptions = Omit<CamCommonOptions, 'upsample'>;

const { upsample: _unused, ...specs } = camCommonOptionSpecs;
const options: OptionSpecs<GuidedGradCamOptions> = specs;
const { upsample: _default, ...defaults } = camDefaults(true);

/** Multiply an input-shaped batch by an `N×H×W` map broadcast over channels. */
export function multiplyByPixelMap(t: Tensor, map: Tensor, layout: 'NCHW' | 'NHWC'): Tensor {
  const [n, h, w] = map.shape;
  const hw = h * w;
  const c = t.data.length / (n * hw);
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < hw; p++) {
        const i = layout === 'NCHW' ? (b * c + k) * hw + p : (b * hw + p) * c + k;
        out[i] = t.data[i] * map.data[b * hw + p];
      }
  return { data: out, shape: [...t.shape] };
}

/**
 * Guided Grad-CAM — Selvaraju et al., 2017 (ICCV), arXiv:1610.02391, with Guided Backprop of
 * Springenberg, Dosovitskiy, Brox, Riedmiller, 2015, arXiv:1412.6806.
 *
 * The upsampled Grad-CAM multiplied, pixel by pixel and on every input channel, by the Guided
 * Backprop input gradient: fine detail from Guided Backprop, class focus from Grad-CAM. The map
 * has the input's shape and layout (`mapKind: 'input'`), like the colour images of the paper;
 * reduce channels in `viz` for a heatmap. Fails the parameter-randomisation sanity check because
 * Guided Backprop does (review, Table 3).
 */
export const guidedGradCam = defineExplainer<GuidedGradCamOptions, Extras, 'guided-grad-cam', true>({
  id: 'guided-grad-cam',
  family: 'cam',
  title: 'Guided Grad-CAM',
  citation:
    'Selvaraju et al., 2017, Grad-CAM, ICCV, arXiv:1610.02391; Guided Backprop: Springenberg et al., 2015, arXiv:1412.6806',
  description: 'Upsampled Grad-CAM times the Guided Backprop gradient, per input channel.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients', 'relu-rules'],
  mapKind: 'input',
  defaults,
  options,
  validate: validateCam('guided-grad-cam'),
  async attribute(ctx) {
    const layers = targetLayers(ctx.model, ctx.options);
    const n = ctx.input.shape[0];
    // Two streams over the items (Grad-CAM, then Guided Backprop) report one total of 2N.
    const maps = await camCoarseMaps(ctx, layers, gradCamWeighting, (done) => ctx.progress(done, 2 * n));
    const gradCam = finishCam(
      maps,
      layers,
      { ...ctx.options, upsample: true },
      inputSize(ctx.model, ctx.input),
    );
    const map = new Float32Array(ctx.input.data.length);
    const per = map.length / n;
    await ctx.streamGradient(
      {
        ...batchStream(ctx.input),
        rules: { relu: 'guided' },
        progress: (done) => ctx.progress(n + done, 2 * n),
      },
      (c) => {
        const rows = sliceBatch(gradCam.map, c.start, c.end);
        map.set(multiplyByPixelMap(c.inputGradient!, rows, ctx.model.info.layout).data, c.start * per);
      },
    );
    return {
      map: { data: map, shape: [...ctx.input.shape] },
      coarse: gradCam.coarse,
      resolvedOptions: gradCam.resolvedOptions,
    };
  },
});
