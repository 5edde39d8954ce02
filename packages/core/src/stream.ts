import type { BackwardResult, BackwardSeed, CaptureResult, ChannelScaling, Model } from './model.js';
import type { BackwardRules, LinearRule } from './rules.js';
import { concatBatch, sizeOf, type Tensor } from './tensor.js';

/**
 * The rows of a streamed model pass. Rows are built one chunk at a time by `input(start, end)`, so
 * memory is bounded by the context's `batchSize` whatever `rows` is (ADR 0003).
 */
export interface RowStream {
  /** Number of rows. */
  readonly rows: number;
  /** Rows `[start, end)` as a batch in the model's input layout. Called once per chunk, in order. */
  input(start: number, end: number): Tensor;
  /**
   * The batch item each row belongs to: its target, and its slice of per-item rule tensors.
   * Either one entry per row or a function of the row index. Default: row r is item r.
   */
  readonly items?: ArrayLike<number> | ((row: number) => number);
  /** Model to run instead of the context's (a derived one, say). */
  readonly model?: Model;
  /**
   * Progress of this stream: `true` (default) reports `(rowsDone, rows)` through the context, a
   * function receives `rowsDone` after each chunk (to fold several streams into one total), `false`
   * reports nothing.
   */
  readonly progress?: boolean | ((rowsDone: number) => void);
}

/** What every chunk of a stream hands to its reducer. */
export interface Chunk {
  /** First row of the chunk. */
  readonly start: number;
  /** One past the last row. */
  readonly end: number;
  /** Item of each row of the chunk. */
  readonly items: Int32Array;
  /** The chunk's input rows, as built by `RowStream.input`. */
  readonly input: Tensor;
  /** Model outputs of the rows, `rows × numClasses`. */
  readonly output: Tensor;
}

/** A streamed forward pass that also captures activations. */
export interface CaptureStream extends RowStream {
  /** Layers whose activations (channels-first) each chunk returns. */
  readonly layers: readonly string[];
}

/** A chunk of a capture stream. */
export interface CaptureChunk extends Chunk {
  readonly activations: Readonly<Record<string, Tensor>>;
}

/** A streamed forward pass with one layer's channels scaled per row (`Model.forwardScaled`). */
export interface ScaledStream extends RowStream {
  /** Layer whose output is scaled. */
  readonly layer: string;
  /** The `rows × C` multipliers of rows `[start, end)`. */
  scale(start: number, end: number): Tensor;
}

/** A streamed backward pass. */
export interface GradientStream extends RowStream {
  /** Return the cotangent at the input (default true). */
  readonly wrtInput?: boolean;
  readonly wrtLayers?: readonly string[];
  readonly capture?: readonly string[];
  /**
   * Backward rules. Tensors in them that hold one entry per batch item (`reference`, z-box
   * `low`/`high` with a first axis equal to the number of items) are gathered per row by core; a
   * function gives the rules of rows `[start, end)` directly.
   */
  readonly rules?: BackwardRules | ((start: number, end: number, items: Int32Array) => BackwardRules);
  readonly relevance?: boolean;
  /**
   * Where the backward pass of rows `[start, end)` starts, instead of the target's output
   * cotangent: an output cotangent (`rows × numClasses`: contrastive and relevance seeds) or a
   * layer seed (synthesis objectives).
   */
  seed?(start: number, end: number, items: Int32Array): BackwardSeed;
}

/** A chunk of a gradient stream. */
export interface GradientChunk extends Chunk {
  readonly inputGradient?: Tensor;
  readonly layerGradients: Readonly<Record<string, Tensor>>;
  readonly activations: Readonly<Record<string, Tensor>>;
  readonly inputRelevance?: Tensor;
}

/** A reducer: folds one chunk into the method's running result. */
export type Reducer<C> = (chunk: C) => void | Promise<void>;

/** The items of rows `[start, end)`. */
export function rowItems(stream: RowStream, start: number, end: number): Int32Array {
  const out = new Int32Array(end - start);
  const items = stream.items;
  if (items === undefined) for (let r = start; r < end; r++) out[r - start] = r;
  else if (typeof items === 'function') for (let r = start; r < end; r++) out[r - start] = items(r);
  else for (let r = start; r < end; r++) out[r - start] = items[r];
  return out;
}

/** Rows of a per-item tensor `t` (first axis `n` > 1) for `items`; other tensors are returned as they are. */
export function gatherItems(t: Tensor, n: number, items: ArrayLike<number>): Tensor {
  // A one-item tensor is broadcast by the backends; only per-item ones need gathering.
  if (t.shape[0] !== n || n === 1) return t;
  const per = sizeOf(t.shape.slice(1));
  const out = new Float32Array(items.length * per);
  for (let r = 0; r < items.length; r++)
    out.set(t.data.subarray(items[r] * per, (items[r] + 1) * per), r * per);
  return { data: out, shape: [items.length, ...t.shape.slice(1)] };
}

/**
 * The rules for rows whose items are `items`, for a batch of `n` items of rank `rank`: per-item
 * tensors (`reference`; z-box `low`/`high` given per item) are gathered row by row, one-item and
 * constant ones kept. Backends that split a request use the same function.
 */
export function rulesForRows(
  rules: BackwardRules | undefined,
  n: number,
  rank: number,
  items: ArrayLike<number>,
): BackwardRules | undefined {
  if (!rules) return rules;
  const at = (t: Tensor): Tensor => (t.shape.length === rank ? gatherItems(t, n, items) : t);
  const linear = rules.linear
    ? Object.fromEntries(
        Object.entries(rules.linear).map(([name, r]): [string, LinearRule] => [
          name,
          r.kind === 'z-box'
            ? {
                ...r,
                low: typeof r.low === 'number' ? r.low : at(r.low),
                high: typeof r.high === 'number' ? r.high : at(r.high),
              }
            : r,
        ]),
      )
    : undefined;
  return {
    ...rules,
    ...(linear ? { linear } : {}),
    ...(rules.reference ? { reference: at(rules.reference) } : {}),
  };
}

/** Join the per-chunk results of backward passes along the batch axis (one joiner for everyone). */
export function concatBackwardResults(
  parts: readonly BackwardResult[],
  names: { readonly wrtLayers?: readonly string[]; readonly capture?: readonly string[] } = {},
): BackwardResult {
  if (parts.length === 1) return parts[0];
  const join = (pick: (r: BackwardResult) => Tensor | undefined): Tensor | undefined => {
    const got = parts.map(pick);
    return got.every((t) => t !== undefined) ? concatBatch(got as Tensor[]) : undefined;
  };
  const joinMap = (
    keys: readonly string[] | undefined,
    pick: (r: BackwardResult) => Readonly<Record<string, Tensor>> | undefined,
  ): Record<string, Tensor> | undefined =>
    keys && keys.length > 0
      ? Object.fromEntries(keys.map((k) => [k, concatBatch(parts.map((r) => pick(r)![k]))]))
      : undefined;
  return {
    output: concatBatch(parts.map((r) => r.output)),
    inputGradient: join((r) => r.inputGradient),
    inputRelevance: join((r) => r.inputRelevance),
    layerGradients: joinMap(names.wrtLayers, (r) => r.layerGradients),
    activations: joinMap(names.capture, (r) => r.activations),
  };
}

/** Join capture results along the batch axis. */
export function concatCaptureResults(
  parts: readonly CaptureResult[],
  layers: readonly string[],
): CaptureResult {
  if (parts.length === 1) return parts[0];
  return {
    output: concatBatch(parts.map((r) => r.output)),
    activations: Object.fromEntries(layers.map((l) => [l, concatBatch(parts.map((r) => r.activations[l]))])),
  };
}

/** A whole batch as a stream: rows are its items (or `items[r]`), sliced per chunk. */
export function batchStream(input: Tensor, items?: ArrayLike<number>, model?: Model): RowStream {
  const per = sizeOf(input.shape.slice(1));
  return {
    rows: input.shape[0],
    items,
    model,
    input: (s, e) => ({
      data: input.data.subarray(s * per, e * per),
      shape: [e - s, ...input.shape.slice(1)],
    }),
  };
}

/** Rows of a stream as a channel-scaling request (for `forwardScaled`). */
export function scalingOf(stream: ScaledStream, start: number, end: number): ChannelScaling {
  return { layer: stream.layer, scale: stream.scale(start, end) };
}
