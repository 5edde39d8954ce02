import {
  concatBatch,
  defineExplainer,
  type OptionSpecs,
  resizeBilinear,
  scoreCotangent,
  type Tensor,
  topK,
} from '@xlens/core';
import { gradCamWeights } from './grad-cam.js';
import { inputSize, layerOptions, weightedSum } from './internal/combine.js';
import {
  type CamLayerOptions,
  camLayerDefaults,
  camLayerOptionSpecs,
  targetLayers,
  validateCam,
} from './internal/layers.js';
import { gatherRows } from './internal/rows.js';

/** Options of CLEAR. */
export interface ClearOptions extends CamLayerOptions {
  /** How many of each item's top-scoring classes compete for every location (all when fewer). */
  readonly classes: number;
}

const defaults: ClearOptions = { ...camLayerDefaults(true), classes: 10 };
const options: OptionSpecs<ClearOptions> = {
  ...camLayerOptionSpecs,
  classes: {
    type: 'integer',
    doc: "number of each item's top classes that compete per location (a legend stays readable up to ~10)",
    min: 1,
  },
};

/**
 * The dominant-class map of a CLEAR result as an `N×H×W` tensor of class indices (−1 where no
 * class responds positively), shaped like `map`. This, `extras.candidateClasses` (`N×classes`,
 * ranked by score) and `map` (the dominant response) are all a colour legend needs.
 */
export function dominantClassMap(result: {
  readonly map: Tensor;
  readonly extras?: Readonly<Record<string, number | readonly number[]>>;
}): Tensor {
  const classes = result.extras?.dominantClass;
  if (!Array.isArray(classes) || classes.length !== result.map.data.length) {
    throw new TypeError('dominantClassMap needs the result of clear (extras.dominantClass shaped like map)');
  }
  return { data: Float32Array.from(classes as readonly number[]), shape: [...result.map.shape] };
}

/** Per location, the maximum over `m` class maps (`N·m×h×w`) and the class that attains it. */
function dominant(
  maps: Tensor,
  n: number,
  m: number,
  candidates: Int32Array,
  relu: boolean,
): { response: Tensor; cls: number[] } {
  const [, h, w] = maps.shape;
  const hw = h * w;
  const response = new Float32Array(n * hw);
  const cls = new Array<number>(n * hw);
  for (let b = 0; b < n; b++)
    for (let p = 0; p < hw; p++) {
      let best = Number.NEGATIVE_INFINITY;
      let arg = -1;
      for (let j = 0; j < m; j++) {
        const v = maps.data[(b * m + j) * hw + p];
        if (v > best) {
          best = v;
          arg = candidates[b * m + j];
        }
      }
      if (relu && !(best > 0)) {
        best = 0;
        arg = -1;
      }
      response[b * hw + p] = best;
      cls[b * hw + p] = arg;
    }
  return { response: { data: response, shape: [n, h, w] }, cls };
}

/**
 * CLEAR — Kumar, Wong, Taylor, 2017, "Explaining the Unexplained: A CLass-Enhanced Attentive
 * Response (CLEAR) Approach to Understanding Deep Neural Networks", CVPR Workshops,
 * arXiv:1704.04133.
 *
 * One response map per competing class (each item's top `classes` classes), here the Grad-CAM of
 * that class at the target layer — CAM up to scale on a GAP→dense head, and on the paper's fully
 * convolutional nets (one channel per class before pooling) that class's channel. Per location:
 * the dominant response (the maximum over classes) is `map`/`coarse`, and the dominant class is
 * `extras.dominantClass` (flattened like `map`, −1 where with `relu` no class responds
 * positively; see `dominantClassMap`). `extras.candidateClasses` lists each item's classes.
 * The paper back-projects responses to pixels; here they stay at the layer's resolution and are
 * upsampled bilinearly before the per-pixel maximum.
 */
/** Extras of `clear`: the dominant class per coarse/fine pixel and each item's candidate classes. */
export type ClearExtras = { readonly dominantClass: number[]; readonly candidateClasses: number[] };

export const clear = defineExplainer<ClearOptions, ClearExtras, 'clear', true>({
  id: 'clear',
  family: 'cam',
  title: 'CLEAR',
  citation:
    'Kumar, Wong & Taylor, 2017, Explaining the Unexplained: A CLass-Enhanced Attentive Response (CLEAR) Approach, CVPR Workshops; arXiv:1704.04133',
  description:
    'Per location, which of the top classes responds most (dominant class) and how strongly (dominant response).',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults,
  options,
  validate: validateCam('clear'),
  async attribute(ctx) {
    const [layer] = targetLayers(ctx.model, ctx.options);
    const n = ctx.input.shape[0];
    const k = ctx.model.info.numClasses;
    const m = Math.min(ctx.options.classes, k);
    const output = await ctx.forward(ctx.input);
    const candidates = new Int32Array(n * m);
    for (let b = 0; b < n; b++) candidates.set(topK(output.data.subarray(b * k, (b + 1) * k), m), b * m);
    // Row r = b·m + j is candidate class j of item b.
    const items = Int32Array.from({ length: n * m }, (_, r) => Math.floor(r / m));
    const parts: Tensor[] = [];
    await ctx.streamGradient(
      {
        rows: n * m,
        items,
        input: (s, e) => gatherRows(ctx.input, items, s, e),
        seed: (s, e) => ({
          kind: 'output',
          cotangent: scoreCotangent(
            gatherRows(output, items, s, e),
            candidates.subarray(s, e),
            k,
            ctx.target.score,
          ),
        }),
        wrtInput: false,
        wrtLayers: [layer.name],
        capture: [layer.name],
      },
      (c) => {
        const grads = c.layerGradients[layer.name];
        parts.push(weightedSum(c.activations[layer.name], gradCamWeights(grads, layer.name), layer.name));
      },
    );
    let classMaps = concatBatch(parts);
    const coarse = dominant(classMaps, n, m, candidates, ctx.options.relu);
    let result = coarse;
    if (ctx.options.upsample) {
      const size = inputSize(ctx.model, ctx.input);
      classMaps = resizeBilinear(classMaps, size.height, size.width);
      result = dominant(classMaps, n, m, candidates, ctx.options.relu);
    }
    return {
      map: result.response,
      coarse: coarse.response,
      extras: { dominantClass: result.cls, candidateClasses: Array.from(candidates) },
      resolvedOptions: layerOptions([layer]),
    };
  },
});
