import {
  batchStream,
  concatBatch,
  defineExplainer,
  type ExplainContext,
  type Extras,
  type LayerInfo,
  type Model,
  sizeOf,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import { finishCam, inputSize, weightedSum } from './internal/combine.js';
import {
  type CamLayerOptions,
  camLayerDefaults,
  camLayerOptionSpecs,
  checkImageModel,
  targetLayers,
} from './internal/layers.js';

/** Options of CAM: the target layer (the one feeding global average pooling), `upsample`, `relu`. */
export type CamOptions = CamLayerOptions;

/** The GAP→dense head behind a spatial layer. */
export interface GapDenseHead {
  /** The global average pooling fed by the layer. */
  readonly pool: LayerInfo;
  /**
   * The dense layer whose outputs are the class scores; absent when the pooled features are the
   * class scores themselves (a conv→GAP head, as in Network in Network or all-convolutional nets:
   * the class weights are then the identity).
   */
  readonly dense?: LayerInfo;
}

const passThrough = new Set(['reshape', 'dropout']);
const afterDense = new Set(['softmax', 'activation', 'reshape', 'dropout']);

/**
 * Find and check the head CAM needs behind `layer`: global *average* pooling, then (through
 * reshapes / dropout only) one dense layer without a fused activation whose outputs are the
 * classes, then nothing but softmax / element-wise activations / reshapes. A pooling with one
 * output per class and nothing but those after it is a head too (no dense layer). Throws an
 * `unsupported` error naming what is in the way.
 */
export function findGapDenseHead(model: Model, layer: LayerInfo): GapDenseHead {
  const all = model.layers?.() ?? [];
  const consumers = (name: string) => all.filter((l) => l.inputs.includes(name));
  const fail = (why: string): never => {
    throw new UnsupportedError(
      'unsupported',
      `cam needs layer ${layer.name} to feed global average pooling and then one dense layer (a GAP→dense head); ${why}. Grad-CAM works on any head (and equals CAM up to scale on a GAP→dense one)`,
    );
  };
  const single = (from: LayerInfo): LayerInfo | null => {
    const next = consumers(from.name);
    if (next.length > 1)
      fail(`${from.name} feeds ${next.length} layers (${next.map((l) => l.name).join(', ')})`);
    return next[0] ?? null;
  };
  const pool = single(layer);
  if (!pool) return fail(`nothing consumes ${layer.name}`);
  if (pool.kind !== 'global-pool' || !/av(era)?g|mean/i.test(pool.op))
    fail(`it feeds ${pool.name} (${pool.kind}, ${pool.op})`);
  let dense = single(pool);
  while (dense && passThrough.has(dense.kind)) dense = single(dense);
  if (sizeOf(pool.outputShape) === model.info.numClasses && endsHead(dense, single)) return { pool };
  if (dense?.kind !== 'dense')
    return fail(
      `${pool.name} is followed by ${dense ? `${dense.name} (${dense.kind})` : 'nothing'}, not a dense layer`,
    );
  if (dense.activation && dense.activation !== 'linear')
    fail(`dense layer ${dense.name} has a fused ${dense.activation} activation`);
  for (let next = single(dense); next; next = single(next)) {
    if (!afterDense.has(next.kind))
      fail(`${next.name} (${next.kind}, ${next.op}) follows the dense layer ${dense.name}`);
  }
  if (sizeOf(dense.outputShape) !== model.info.numClasses)
    fail(
      `dense layer ${dense.name} has ${sizeOf(dense.outputShape)} outputs, not the ${model.info.numClasses} classes`,
    );
  return { pool, dense };
}

/** Whether `from` and everything after it may end a head: softmax, activations, reshapes, dropout. */
function endsHead(from: LayerInfo | null, single: (l: LayerInfo) => LayerInfo | null): boolean {
  for (let next = from; next; next = single(next)) if (!afterDense.has(next.kind)) return false;
  return true;
}

/** Seed of rows of `items` on the dense outputs: one-hot per item's class, or the given cotangent. */
function denseSeed(ctx: ExplainContext<CamOptions>, items: Int32Array): Tensor {
  const k = ctx.model.info.numClasses;
  const out = new Float32Array(items.length * k);
  const { classes, cotangent } = ctx.target;
  items.forEach((item, r) => {
    if (classes) out[r * k + classes[item]] = 1;
    else out.set(cotangent!.data.subarray(item * k, (item + 1) * k), r * k);
  });
  return { data: out, shape: [items.length, k] };
}

/**
 * CAM — Zhou, Khosla, Lapedriza, Oliva, Torralba, 2016, "Learning Deep Features for
 * Discriminative Localization", CVPR, arXiv:1512.04150.
 *
 * `M = Σ_k w^c_k A^k` with `w^c` the dense weights of class c behind global average pooling. The
 * contract has no weight read, but the gradient of the dense output c w.r.t. the pooled features
 * *is* `w^c` exactly (independent of the input), so it is read with one backward seeded on the
 * dense layer. Scores are the dense outputs whatever the run's `score` option. No final ReLU in
 * the paper: `relu` defaults to false. On a conv→GAP head whose pooled features are the class
 * scores (no dense layer), `w^c` is one-hot and the map is channel c of the layer.
 */
export const cam = defineExplainer<CamOptions, Extras, 'cam', true>({
  id: 'cam',
  family: 'cam',
  title: 'CAM',
  citation:
    'Zhou et al., 2016, Learning Deep Features for Discriminative Localization, CVPR; arXiv:1512.04150',
  description:
    'The last spatial features weighted by the class weights of the dense layer after global average pooling.',
  requires: ['layers', 'capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: camLayerDefaults(false),
  options: camLayerOptionSpecs,
  validate(options, model) {
    checkImageModel('cam', model);
    findGapDenseHead(model, targetLayers(model, options)[0]);
  },
  async attribute(ctx) {
    const [layer] = targetLayers(ctx.model, ctx.options);
    const { pool, dense } = findGapDenseHead(ctx.model, layer);
    const parts: Tensor[] = [];
    if (!dense) {
      // The class weights are the identity: each row weights the channels by its target's one-hot row.
      await ctx.streamCapture({ ...batchStream(ctx.input), layers: [layer.name] }, (c) => {
        parts.push(weightedSum(c.activations[layer.name], denseSeed(ctx, c.items).data, layer.name));
      });
    } else {
      await ctx.streamGradient(
        {
          ...batchStream(ctx.input),
          seed: (_s, _e, items) => ({ kind: 'layer', layer: dense.name, cotangent: denseSeed(ctx, items) }),
          wrtInput: false,
          wrtLayers: [pool.name],
          capture: [layer.name],
        },
        (c) => {
          parts.push(weightedSum(c.activations[layer.name], c.layerGradients[pool.name].data, layer.name));
        },
      );
    }
    const result = finishCam([concatBatch(parts)], [layer], ctx.options, inputSize(ctx.model, ctx.input));
    return ctx.target.score === 'logit'
      ? result
      : {
          ...result,
          warnings: [
            `cam weights channels with the dense weights of the class; score ${ctx.target.score} does not apply`,
          ],
        };
  },
});
