import {
  type Capability,
  checkCapabilities,
  type ExplainContext,
  type Model,
  makeContext,
  type RunOptions,
  resolveTarget,
  type Tensor,
  validateInput,
} from '@xlens/core';

/** Run options of the data-set functions (hidden-layer views, dissection): chunking, progress, abort. */
export type DataRunOptions = Pick<RunOptions, 'batchSize' | 'onProgress' | 'signal'>;

/**
 * A streaming context over a data set, so the functions that are not explainers (they return
 * grids, patches, labels) walk images in chunks of `batchSize` through core's one chunk loop, with
 * its progress, abort and finiteness checks (ADR 0003). Validates input and capabilities first.
 */
export function dataContext(
  method: string,
  model: Model,
  images: Tensor,
  requires: readonly Capability[],
  run: DataRunOptions = {},
): ExplainContext<unknown> {
  validateInput(model, images);
  checkCapabilities(method, requires, model);
  return makeContext({
    method,
    model,
    input: images,
    // No target enters these computations; core's context needs one.
    target: resolveTarget(0, model.info, images.shape[0], 'logit'),
    options: {},
    run,
    reportProgress: true,
  });
}

/** Activations of every image at one layer, channels-first (`N×…layer shape`), streamed in chunks. */
export async function layerActivations(ctx: ExplainContext<unknown>, layer: string): Promise<Tensor> {
  const parts: Float32Array[] = [];
  let shape: number[] = [];
  await ctx.streamCapture(
    {
      rows: ctx.input.shape[0],
      input: (s, e) => {
        const per = ctx.input.data.length / ctx.input.shape[0];
        return {
          data: ctx.input.data.subarray(s * per, e * per),
          shape: [e - s, ...ctx.input.shape.slice(1)],
        };
      },
      layers: [layer],
    },
    (c) => {
      parts.push(c.activations[layer].data.slice());
      shape = c.activations[layer].shape.slice(1);
    },
  );
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, shape: [ctx.input.shape[0], ...shape] };
}
