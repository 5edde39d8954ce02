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
   * What the outputs are. Default: `logits`; `probabilities` when a softmax head is kept
   * (`stripSoftmax: false`), or when the outputs of a probe pass are non-negative and sum to 1
   * without a softmax the backend can see (then `warnings` says so).
   */
  readonly outputKind?: OutputKind;
  /**
   * Remove a softmax head: a `Softmax` layer, an `Activation('softmax')` or a final layer with
   * `activation: 'softmax'` (after dropout at most); in a GraphModel a `Softmax` or `LogSoftmax`
   * op before the output (through `Identity`). Outputs and gradients are then those of the
   * logits it reads, `info.outputActivation` records what was removed (ADR 0007), and scoring
   * `softmax` still explains the probability. Default true; false keeps the model as it is
   * (`outputKind: 'probabilities'`, and `warnings` says so).
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
  /**
   * GraphModel only: the output to explain, as a node name (with or without its `:0` port, as
   * TF2 signatures name outputs) or a signature key. Default: the first `N×K` output.
   */
  readonly outputNode?: string;
}

/** An xlens `Model` over a tfjs model, with the notes gathered while wrapping it. */
export interface TfjsModel extends Model {
  /** Things worth knowing about the wrapped model, e.g. that it ends in a softmax. */
  readonly warnings: readonly string[];
  /** Release the tfjs model (synchronous for tfjs). Further calls throw a `disposed` error. */
  dispose(): void;
}
