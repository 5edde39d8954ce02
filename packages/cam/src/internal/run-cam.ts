import type { ExplainContext, MethodResult, Tensor } from '@xlens/core';
import { finishCam, inputSize } from './combine.js';
import { type CamCommonOptions, targetLayers } from './layers.js';
import { collectLayers, type LayerData } from './passes.js';

/** How a CAM method turns one layer's activations (and gradients) into its coarse map. */
export interface CamWeighting<O> {
  /** Whether the layer gradients of each item's target are needed. */
  readonly gradients: boolean;
  /** The coarse `N×h×w` map of one layer before the final ReLU. */
  coarse(data: LayerData, ctx: ExplainContext<O>): Tensor | Promise<Tensor>;
}

/**
 * The whole CAM pipeline around a weighting: resolve the target layers, collect activations (and
 * gradients), weight, then ReLU, fuse and upsample per the common options.
 */
export async function runCam<O extends CamCommonOptions>(
  ctx: ExplainContext<O>,
  how: CamWeighting<O>,
): Promise<MethodResult> {
  const layers = targetLayers(ctx.model, ctx.options);
  const data = await collectLayers(ctx, layers, how.gradients);
  const maps: Tensor[] = [];
  for (const d of data) maps.push(await how.coarse(d, ctx));
  return finishCam(maps, ctx.options, inputSize(ctx.model, ctx.input));
}
