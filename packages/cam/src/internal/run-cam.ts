import {
  batchStream,
  concatBatch,
  type ExplainContext,
  type LayerInfo,
  type MethodResult,
  type RowStream,
  type Tensor,
} from '@xlens/core';
import { finishCam, inputSize } from './combine.js';
import { type CamCommonOptions, targetLayers } from './layers.js';

/** What a CAM method sees of one target layer for a chunk of items: channels-first `n×C×h×w`. */
export interface LayerData {
  readonly layer: LayerInfo;
  readonly activations: Tensor;
  /** `∂score/∂A` for each item's target; present when the method asked for gradients. */
  readonly gradients?: Tensor;
}

/** How a CAM method turns one layer's activations (and gradients) into its coarse map. */
export interface CamWeighting<O> {
  /** Whether the layer gradients of each item's target are needed. */
  readonly gradients: boolean;
  /**
   * The coarse `n×h×w` map of one layer before the final ReLU, for the `n` items of `data` (a
   * chunk of the batch: the map of an item must depend on that item alone).
   */
  coarse(data: LayerData, ctx: ExplainContext<O>): Tensor | Promise<Tensor>;
}

/**
 * The coarse map of every layer (`N×h×w` each), streamed over the context's input: one capture, or
 * one fused forward + backward, per chunk of items, weighted as soon as it arrives so that only one
 * chunk of activations and gradients is alive at a time. `progress` is the stream's (default:
 * `(itemsDone, N)`).
 */
export async function camCoarseMaps<O>(
  ctx: ExplainContext<O>,
  layers: readonly LayerInfo[],
  how: CamWeighting<O>,
  progress?: RowStream['progress'],
): Promise<Tensor[]> {
  const names = layers.map((l) => l.name);
  const parts: Tensor[][] = layers.map(() => []);
  const weigh = async (
    activations: Readonly<Record<string, Tensor>>,
    gradients?: Readonly<Record<string, Tensor>>,
  ): Promise<void> => {
    for (const [li, layer] of layers.entries()) {
      const data = { layer, activations: activations[layer.name], gradients: gradients?.[layer.name] };
      parts[li].push(await how.coarse(data, ctx));
    }
  };
  const rows: RowStream = { ...batchStream(ctx.input), progress };
  if (how.gradients)
    await ctx.streamGradient({ ...rows, wrtInput: false, wrtLayers: names, capture: names }, (chunk) =>
      weigh(chunk.activations, chunk.layerGradients),
    );
  else await ctx.streamCapture({ ...rows, layers: names }, (chunk) => weigh(chunk.activations));
  return parts.map((p) => concatBatch(p));
}

/**
 * The whole CAM pipeline around a weighting: resolve the target layers, stream activations (and
 * gradients) into coarse maps, then ReLU, fuse and upsample per the common options.
 */
export async function runCam<O extends CamCommonOptions>(
  ctx: ExplainContext<O>,
  how: CamWeighting<O>,
): Promise<MethodResult> {
  const layers = targetLayers(ctx.model, ctx.options);
  const maps = await camCoarseMaps(ctx, layers, how);
  return finishCam(maps, layers, ctx.options, inputSize(ctx.model, ctx.input));
}
