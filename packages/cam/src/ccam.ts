import { batchStream, concatBatch, defineExplainer, type OptionSpecs, type Tensor, topK } from '@xlens/core';
import { gradCamWeights } from './grad-cam.js';
import { finishCam, inputSize, weightedSum } from './internal/combine.js';
import {
  type CamLayerOptions,
  camLayerDefaults,
  camLayerOptionSpecs,
  targetLayers,
  validateCam,
} from './internal/layers.js';

/** Options of CCAM. */
export interface CcamOptions extends CamLayerOptions {
  /** How many of the largest components of the group's mean output vector are combined. */
  readonly components: number;
}

const defaults: CcamOptions = { ...camLayerDefaults(false), components: 5 };
const options: OptionSpecs<CcamOptions> = {
  ...camLayerOptionSpecs,
  components: {
    type: 'integer',
    doc: "largest components of the group's mean output vector that are combined",
    min: 1,
  },
};

/**
 * CCAM (Common Component Activation Map) — Li, Jafari, Rother, 2018, "Localizing Common Objects
 * Using Common Component Activation Map", CVPR Workshops (review ref. [96]).
 *
 * The batch is the group of images. The model outputs (raw, the "component vectors") are averaged
 * over the group; the `components` largest entries of that common vector are its common
 * components S. Each image's map is the sum of its class activation maps over S,
 * `M_i = Σ_{j∈S} Σ_k w^j_k A^k_i`, with `w^j` the Grad-CAM weights of output j — CAM's dense
 * weights up to the factor 1/(h·w) on a GAP→dense head. Because the sum is linear, one backward
 * per image with the seed `Σ_{j∈S} e_j` gives it. Per-item targets are ignored (the common
 * components replace them); `extras.commonComponents` lists S, `extras.commonVector` the mean.
 */
export const ccam = defineExplainer<
  CcamOptions,
  { commonComponents: readonly number[]; commonVector: number[] },
  'ccam',
  true
>({
  id: 'ccam',
  family: 'cam',
  title: 'CCAM',
  citation:
    'Li, Jafari & Rother, 2018, Localizing Common Objects Using Common Component Activation Map, CVPR Workshops',
  description:
    'For a group of images: activation maps of the components the group has in common, the same for every image.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults,
  options,
  validate: validateCam('ccam'),
  async attribute(ctx) {
    const [layer] = targetLayers(ctx.model, ctx.options);
    const n = ctx.input.shape[0];
    const k = ctx.model.info.numClasses;
    const output = await ctx.forward(ctx.input);
    const common = new Float64Array(k);
    for (let i = 0; i < n * k; i++) common[i % k] += output.data[i] / n;
    const chosen = topK(common, Math.min(ctx.options.components, k));
    const seedRow = new Float32Array(k);
    for (const j of chosen) seedRow[j] = 1;
    const parts: Tensor[] = [];
    await ctx.streamGradient(
      {
        ...batchStream(ctx.input),
        seed: (s, e) => {
          const cotangent = new Float32Array((e - s) * k);
          for (let i = 0; i < e - s; i++) cotangent.set(seedRow, i * k);
          return { kind: 'output', cotangent: { data: cotangent, shape: [e - s, k] } };
        },
        wrtInput: false,
        wrtLayers: [layer.name],
        capture: [layer.name],
      },
      (c) => {
        const grads = c.layerGradients[layer.name];
        parts.push(weightedSum(c.activations[layer.name], gradCamWeights(grads, layer.name), layer.name));
      },
    );
    const coarse = concatBatch(parts);
    const result = finishCam([coarse], [layer], ctx.options, inputSize(ctx.model, ctx.input));
    return { ...result, extras: { commonComponents: chosen, commonVector: Array.from(common) } };
  },
});
