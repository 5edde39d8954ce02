import { findLayer, type Model, type Tensor } from '@xlens/core';
import { type DataRunOptions, dataContext, layerActivations } from './data-context.js';

/** The per-channel maps of one layer for a batch of images. */
export interface ActivationGrid {
  readonly layer: string;
  /** `N×C×h×w` for spatial layers (`N×K×1×1` for vectors): one tile per channel and image. */
  readonly maps: Tensor;
  /** Largest activation of each channel over the batch, to sort or scale tiles. */
  readonly channelMax: readonly number[];
}

/**
 * Yosinski, Clune, Nguyen, Fuchs & Lipson, 2015, "Understanding Neural Networks Through Deep
 * Visualization", ICML workshop, arXiv:1506.06579: the activation of every channel of a layer, in the
 * image's spatial layout, to show side by side (`@xlens/viz`'s `activationTiles` and `imageGrid`).
 * Channels-first as the contract captures them; vector layers become 1×1 tiles. Needs `layers` and
 * `capture`.
 */
export async function activationGrid(
  model: Model,
  images: Tensor,
  layer: string,
  run?: DataRunOptions,
): Promise<ActivationGrid> {
  const ctx = dataContext('activation-grid', model, images, ['layers', 'capture'], run);
  const info = findLayer(model, layer);
  const acts = await layerActivations(ctx, info.name);
  const [n, c] = acts.shape;
  const plane = acts.data.length / (n * c);
  const channelMax = Array.from({ length: c }, () => Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < plane; p++)
        channelMax[k] = Math.max(channelMax[k], acts.data[(i * c + k) * plane + p]);
  const [h, w] = acts.shape.length === 4 ? [acts.shape[2], acts.shape[3]] : [1, 1];
  return { layer: info.name, maps: { data: acts.data, shape: [n, c, h, w] }, channelMax };
}
