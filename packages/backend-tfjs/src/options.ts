import type { Model, ModelInfo, OutputKind } from '@xlens/core';

/** Options of `fromTfjs` and `loadTfjsModel`. */
export interface FromTfjsOptions {
  /** Name for reports (default: the tfjs model's name). */
  readonly name?: string;
  /** Class labels, index-aligned with the outputs. */
  readonly labels?: readonly string[];
  /** Valid input range after preprocessing (for baselines and LRP box bounds). */
  readonly inputRange?: ModelInfo['inputRange'];
  /**
   * What the outputs are. Default: `logits`, or `probabilities` when the model ends in a softmax
   * that is not stripped.
   */
  readonly outputKind?: OutputKind;
  /**
   * When the model ends in a softmax (a `Softmax` layer, or a final layer with
   * `activation: 'softmax'`), drop it so that outputs and gradients are those of the pre-softmax
   * logits. Default false: the model is left as it is and `warnings` says so.
   */
  readonly stripSoftmax?: boolean;
  /** Dispose the tfjs model when the xlens model is disposed (default true). */
  readonly disposeModel?: boolean;
  /**
   * Memory budget of one underlying tfjs call, in bytes. Larger batches are split into
   * sub-batches whose estimated working memory (activation values per item × 4 bytes × a factor,
   * about 10 for a backward pass) fits, and the results are concatenated. Default: 1 GiB on the
   * wasm backend (its heap cannot grow past 4 GiB), no limit on other backends. A single item
   * over the budget throws `UnsupportedError`.
   */
  readonly maxBatchBytes?: number;
  /** GraphModel only: the output node to explain (default: the model's first output). */
  readonly outputNode?: string;
}

/** An xlens `Model` over a tfjs model, with the notes gathered while wrapping it. */
export interface TfjsModel extends Model {
  /** Things worth knowing about the wrapped model, e.g. that it ends in a softmax. */
  readonly warnings: readonly string[];
  /** Release the tfjs model (synchronous for tfjs). Further calls throw a `disposed` error. */
  dispose(): void;
}
