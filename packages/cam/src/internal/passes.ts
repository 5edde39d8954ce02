import {
  type BackwardResult,
  type BackwardSeed,
  CapabilityError,
  chunkRanges,
  concatBatch,
  type ExplainContext,
  type LayerInfo,
  type Model,
  sliceBatch,
  type Tensor,
} from '@xlens/core';

/** What a CAM method sees of one target layer: channels-first `N×C×h×w` tensors. */
export interface LayerData {
  readonly layer: LayerInfo;
  readonly activations: Tensor;
  /** `∂score/∂A` for each item's target; present when the method asked for gradients. */
  readonly gradients?: Tensor;
}

/** Forward with captures, in chunks of `ctx.batchSize`. */
export async function captureChunked(
  ctx: ExplainContext<unknown>,
  input: Tensor,
  names: readonly string[],
): Promise<{ output: Tensor; activations: Record<string, Tensor> }> {
  const model = ctx.model;
  if (!model.capture)
    throw new CapabilityError(`${ctx.method} needs capture, which ${model.info.name} does not offer`);
  const outputs: Tensor[] = [];
  const parts: Record<string, Tensor[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const [s, e] of chunkRanges(input.shape[0], ctx.batchSize)) {
    ctx.checkAborted();
    const r = await model.capture(sliceBatch(input, s, e), names);
    outputs.push(r.output);
    for (const n of names) parts[n].push(r.activations[n]);
  }
  const activations: Record<string, Tensor> = {};
  for (const n of names) activations[n] = concatBatch(parts[n]);
  return { output: concatBatch(outputs), activations };
}

/** Options of one `backwardChunked` call. */
export interface ChunkedBackward {
  /** Number of rows. */
  readonly rows: number;
  /** Input rows `[start, end)`, built lazily so memory is bounded by one chunk. */
  readonly input: (start: number, end: number) => Tensor;
  /** Seed of the rows `[start, end)`. */
  readonly seed: (start: number, end: number) => BackwardSeed;
  readonly wrtLayers?: readonly string[];
  readonly capture?: readonly string[];
  readonly model?: Model;
  /** Report `ctx.progress(rowsDone, rows)` after each chunk. */
  readonly progress?: boolean;
}

/**
 * Backward passes with a seed of the method's choosing (not the context's target), in chunks of
 * `ctx.batchSize`, layer gradients and activations re-joined along the batch.
 */
export async function backwardChunked(
  ctx: ExplainContext<unknown>,
  req: ChunkedBackward,
): Promise<{ output: Tensor; layerGradients: Record<string, Tensor>; activations: Record<string, Tensor> }> {
  const model = req.model ?? ctx.model;
  if (!model.backward)
    throw new CapabilityError(`${ctx.method} needs gradients, which ${model.info.name} does not offer`);
  const results: BackwardResult[] = [];
  for (const [s, e] of chunkRanges(req.rows, ctx.batchSize)) {
    ctx.checkAborted();
    results.push(
      await model.backward({
        input: req.input(s, e),
        seed: req.seed(s, e),
        wrtInput: false,
        wrtLayers: req.wrtLayers,
        capture: req.capture,
      }),
    );
    if (req.progress) ctx.progress(e, req.rows);
  }
  const join = (
    names: readonly string[] | undefined,
    pick: (r: BackwardResult) => Readonly<Record<string, Tensor>> | undefined,
  ) => Object.fromEntries((names ?? []).map((n) => [n, concatBatch(results.map((r) => pick(r)![n]))]));
  return {
    output: concatBatch(results.map((r) => r.output)),
    layerGradients: join(req.wrtLayers, (r) => r.layerGradients),
    activations: join(req.capture, (r) => r.activations),
  };
}

/**
 * Activations of the target layers for the context's input, plus the layer gradients of each
 * item's target score when `gradients` is set (one fused forward + backward per chunk).
 */
export async function collectLayers(
  ctx: ExplainContext<unknown>,
  layers: readonly LayerInfo[],
  gradients: boolean,
): Promise<LayerData[]> {
  const names = layers.map((l) => l.name);
  if (gradients) {
    const r = await ctx.gradient({ input: ctx.input, wrtInput: false, wrtLayers: names, capture: names });
    return layers.map((layer) => ({
      layer,
      activations: r.activations[layer.name],
      gradients: r.layerGradients[layer.name],
    }));
  }
  const r = await captureChunked(ctx, ctx.input, names);
  return layers.map((layer) => ({ layer, activations: r.activations[layer.name] }));
}

/** Rows `[start, end)` of a repeated batch: row r is item `items[r]` of `input`. */
export function gatherRows(input: Tensor, items: ArrayLike<number>, start: number, end: number): Tensor {
  const per = input.data.length / input.shape[0];
  const out = new Float32Array((end - start) * per);
  for (let r = start; r < end; r++)
    out.set(input.data.subarray(items[r] * per, (items[r] + 1) * per), (r - start) * per);
  return { data: out, shape: [end - start, ...input.shape.slice(1)] };
}
