import {
  type BackwardRules,
  batchStream,
  type Capability,
  concatBatch,
  type ExplainContext,
  type GradientChunk,
  type Layout,
  type MethodResult,
  type Model,
  type RowStream,
  type Tensor,
} from '@xlens/core';

/**
 * What makes a method a "plain gradient" method: one backward pass (optionally with backward
 * rules) followed by an element-wise or per-pixel post-processing of the input gradient. Knowing
 * this lets the SmoothGrad family stream noisy copies of every item through one stream of backward
 * passes instead of running the method once per sample.
 */
export interface PlainGradient<O> {
  /** Backward rules of the pass; absent for the ordinary gradient. */
  readonly rules?: BackwardRules;
  /** Capabilities the pass needs. */
  readonly requires: readonly Capability[];
  /** The map of rows `input` (`M×inputShape`) from their input gradient `gradient`. */
  toMap(input: Tensor, gradient: Tensor, options: Readonly<O>, layout: Layout): Tensor;
}

/**
 * Stream `stream`'s rows through backward passes and hand each chunk with its maps (one row per
 * row of the chunk) to `reduce`; only one chunk of rows, gradients and maps exists at a time.
 */
export function streamPlainMaps<O>(
  ctx: ExplainContext<unknown>,
  plain: PlainGradient<O>,
  options: Readonly<O>,
  stream: RowStream,
  reduce: (chunk: GradientChunk, map: Tensor) => void,
): Promise<void> {
  const layout = ctx.model.info.layout;
  return ctx.streamGradient({ ...stream, rules: plain.rules }, (chunk) =>
    reduce(chunk, plain.toMap(chunk.input, chunk.inputGradient!, options, layout)),
  );
}

/** The map of every row of `input` (one per item, of any model) under a plain gradient method. */
export async function plainGradientMap<O>(
  ctx: ExplainContext<unknown>,
  plain: PlainGradient<O>,
  options: Readonly<O>,
  input: Tensor,
  model?: Model,
  progress: RowStream['progress'] = false,
): Promise<Tensor> {
  const maps: Tensor[] = [];
  await streamPlainMaps(
    ctx,
    plain,
    options,
    { ...batchStream(input, undefined, model), progress },
    (_, m) => {
      maps.push(m);
    },
  );
  return maps.length === 1 ? maps[0] : concatBatch(maps);
}

/** The `attribute` of a plain gradient method: its map of the context's own input, streamed by items. */
export function plainAttribute<O>(
  plain: PlainGradient<O>,
): (ctx: ExplainContext<O>) => Promise<MethodResult> {
  return async (ctx) => ({
    map: await plainGradientMap(
      ctx as ExplainContext<unknown>,
      plain,
      ctx.options,
      ctx.input,
      undefined,
      true,
    ),
  });
}
