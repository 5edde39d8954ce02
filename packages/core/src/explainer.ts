import type { FileSource } from './io/files.js';
import type { Capability, CaptureResult, ChannelScaling, Model } from './model.js';
import type { Rng } from './ops/random.js';
import type { BackwardRules } from './rules.js';
import type {
  CaptureChunk,
  CaptureStream,
  Chunk,
  GradientChunk,
  GradientStream,
  Reducer,
  RowStream,
  ScaledStream,
} from './stream.js';
import type { Tensor } from './tensor.js';

/** The method families of xlens. */
export type Family = 'gradients' | 'cam' | 'relevance' | 'perturbation' | 'synthesis' | 'other';

/**
 * How a class score is read from the model outputs. `logit` (default) uses the raw output;
 * `softmax` / `log-softmax` / `sigmoid` apply that function first. Never applied silently.
 */
export type ScoreKind = 'logit' | 'softmax' | 'log-softmax' | 'sigmoid';

/**
 * What the user asks to explain, per batch item:
 * - `'top1'`: the highest-scoring class of each item;
 * - a class index (all items) or one index per item;
 * - a class label (needs `info.labels`);
 * - `{ cotangent }`: a seed over the outputs, `N×numClasses` (or `1×numClasses` for all items).
 */
export type TargetSpec = 'top1' | number | string | readonly number[] | { readonly cotangent: Tensor };

/** A target after validation: one class per item, or an explicit output cotangent. */
export interface ResolvedTarget {
  /** Class per item, or null when an explicit cotangent was given. */
  readonly classes: Int32Array | null;
  /** Explicit cotangent `N×numClasses`, when given. */
  readonly cotangent: Tensor | null;
  readonly score: ScoreKind;
}

/** Metadata of one option, for validation, CLI parsing and listings. */
export type OptionSpec =
  | {
      readonly type: 'number';
      readonly doc: string;
      readonly min?: number;
      readonly max?: number;
      readonly unit?: string;
    }
  | { readonly type: 'integer'; readonly doc: string; readonly min?: number; readonly max?: number }
  | { readonly type: 'boolean'; readonly doc: string }
  | { readonly type: 'enum'; readonly doc: string; readonly values: readonly string[] }
  | { readonly type: 'string'; readonly doc: string; readonly allowed?: readonly string[] }
  | { readonly type: 'numbers'; readonly doc: string }
  | { readonly type: 'json'; readonly doc: string };

/** Option specs for every key of an options object. */
export type OptionSpecs<O> = { readonly [K in keyof O]-?: OptionSpec };

/** Progress report of long work. */
export interface Progress {
  readonly method: string;
  readonly done: number;
  readonly total: number;
}

/** Options every explain call accepts besides the method's own. */
export interface RunOptions {
  /** Most items sent to the model in one pass by methods that expand their input. Default 16. */
  readonly batchSize?: number;
  /** Seed of every random draw. Default 0. */
  readonly seed?: number;
  /** How the class score is read. Default `logit`. */
  readonly score?: ScoreKind;
  /** Called as work progresses. */
  readonly onProgress?: (p: Progress) => void;
  /** Aborts long work between passes. */
  readonly signal?: AbortSignal;
  /** Resolves method ids for wrappers (SmoothGrad over `base`). */
  readonly registry?: { get(id: string): AnyExplainer };
  /**
   * Where options that name a file (an IG/DeepLIFT baseline `.npy`, LRP rule and pattern files)
   * are read from; core itself never touches a file system. On Node.js pass `nodeFileReader` from
   * `@xlens/core/node`. Without it such options fail with a message saying so.
   */
  readonly files?: FileSource;
}

/** Options a user passes: any subset of the method's options plus the run options. */
export type ExplainOptions<O> = Partial<O> & RunOptions;

/** A backward pass on rows of an (expanded) input, targeting the items the rows belong to. */
export interface GradientRequest {
  /** Rows to differentiate, `M×inputShape`. */
  readonly input: Tensor;
  /** For each row, the batch item whose target it uses (default: row i → item i). */
  readonly items?: readonly number[] | Int32Array;
  readonly wrtInput?: boolean;
  readonly wrtLayers?: readonly string[];
  readonly capture?: readonly string[];
  readonly rules?: BackwardRules;
  readonly relevance?: boolean;
  /** Use this model instead of the context's (e.g. a derived one). */
  readonly model?: Model;
  /**
   * Output cotangent per row (`M×numClasses`), used instead of the target's (contrastive and
   * softmax-seeded relevance methods). Chunked together with `input`.
   */
  readonly cotangent?: Tensor;
}

/** Everything a method sees when it runs. Inputs are validated already. */
export interface ExplainContext<O> {
  readonly method: string;
  readonly model: Model;
  /** `N×inputShape`, validated finite. */
  readonly input: Tensor;
  readonly target: ResolvedTarget;
  /** Defaults merged with the user's options, validated. */
  readonly options: Readonly<O>;
  readonly batchSize: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  /** `RunOptions.files`: read file-valued options through it (before the first model pass). */
  readonly files?: FileSource;
  /** A fresh RNG from `seed` (and an optional stream number, for independent draws). */
  rng(stream?: number): Rng;
  /**
   * The RNG of one sample of a sample-based method: its draws depend only on (`seed`, `stream`,
   * `sample`), never on how many items the batch holds or where an item sits in it, so a batch
   * gives every item the maps it gets alone (ADR 0003).
   */
  sampleRng(stream: number, sample: number): Rng;
  /** Report progress of `done` out of `total` units. */
  progress(done: number, total: number): void;
  /** Throw an `aborted` error if the signal fired. */
  checkAborted(): void;
  /** Score of each row's target from model outputs, per `target.score`. */
  scores(output: Tensor, items?: readonly number[] | Int32Array): Float32Array;
  /** Cotangent over the outputs for rows belonging to `items`, per target and score kind. */
  outputCotangent(output: Tensor | null, items: readonly number[] | Int32Array): Tensor;
  /**
   * Stream a forward pass: rows built chunk by chunk (at most `batchSize` at a time), each chunk's
   * outputs handed to `reduce`. Checks abort before every chunk and reports progress.
   */
  streamForward(stream: RowStream, reduce: Reducer<Chunk>): Promise<void>;
  /** Stream a forward pass that captures `stream.layers`. Needs `capture`. */
  streamCapture(stream: CaptureStream, reduce: Reducer<CaptureChunk>): Promise<void>;
  /** Stream a forward pass with one layer's channels scaled per row. Needs `forward-scaled`. */
  streamScaled(stream: ScaledStream, reduce: Reducer<Chunk>): Promise<void>;
  /**
   * Stream forward + backward passes: each row is seeded with its item's target (or
   * `stream.seed`), per-item rule tensors are gathered per row. Needs `gradients`.
   */
  streamGradient(stream: GradientStream, reduce: Reducer<GradientChunk>): Promise<void>;
  /** Forward + backward of a whole batch (streamed in chunks, results re-joined). */
  gradient(request: GradientRequest): Promise<GradientResult>;
  /** Forward of a whole batch (streamed in chunks). */
  forward(input: Tensor, model?: Model): Promise<Tensor>;
  /** Forward with captures of a whole batch (streamed in chunks). Needs `capture`. */
  capture(input: Tensor, layers: readonly string[], model?: Model): Promise<CaptureResult>;
  /** Forward of a whole batch with channels scaled (streamed in chunks). Needs `forward-scaled`. */
  forwardScaled(input: Tensor, scaling: ChannelScaling, model?: Model): Promise<Tensor>;
  /** Run another explainer on (possibly perturbed) input with the same targets and run options. */
  run<P extends object>(
    explainer: Explainer<P>,
    input: Tensor,
    options?: Partial<P>,
    model?: Model,
  ): Promise<MethodResult>;
  /** Look up a method by id in `RunOptions.registry`. */
  resolve(id: string): AnyExplainer;
}

/** A joined backward result. */
export interface GradientResult {
  readonly output: Tensor;
  readonly inputGradient?: Tensor;
  readonly layerGradients: Readonly<Record<string, Tensor>>;
  readonly activations: Readonly<Record<string, Tensor>>;
  readonly inputRelevance?: Tensor;
}

/** Where a method's map lives. */
export type MapKind =
  /** Same shape and layout as the input (per channel). */
  | 'input'
  /** One value per pixel, `N×H×W`. */
  | 'pixel';

/**
 * Numbers a method reports besides its map, by name (a completeness gap per item, say). Methods
 * declare their own shape (`{ completenessGap: number[] }`) so results need no casts.
 */
export type Extras = Readonly<Record<string, number | readonly number[]>>;

/** What a method's `attribute` returns. */
export interface MethodResult<E extends Extras = Extras> {
  /** Raw map; its shape follows the explainer's `mapKind`. */
  readonly map: Tensor;
  /** The coarse map before upsampling (CAM methods), `N×h×w`. */
  readonly coarse?: Tensor;
  /** Numbers worth reporting (e.g. completeness gap per item). */
  readonly extras?: E;
  readonly warnings?: readonly string[];
  /**
   * Overrides the explainer's `mapKind` for this result. Wrappers (SmoothGrad, NoiseGrad, ...)
   * return their base method's map, whose kind is only known at run time.
   */
  readonly mapKind?: MapKind;
  /**
   * Option values the method settled at run time, recorded over the user's in
   * `Attribution.options` so a result says what was actually run (the layer a CAM picked when
   * `layer` was left to choose, say).
   */
  readonly resolvedOptions?: Readonly<Record<string, unknown>>;
}

/**
 * A method descriptor: data about the method plus its `attribute` function. `E` types its extras
 * and `Id` its registry id, so `registry.get('integrated-gradients')` knows both.
 */
export interface ExplainerSpec<O extends object, E extends Extras = Extras, Id extends string = string> {
  /** Registry id, kebab-case (`integrated-gradients`). */
  readonly id: Id;
  readonly family: Family;
  /** Human title (`Integrated Gradients`). */
  readonly title: string;
  /** Authors, year, venue and arXiv/DOI of the primary paper. */
  readonly citation: string;
  /** What the map means, one or two sentences. */
  readonly description: string;
  readonly requires: readonly Capability[];
  readonly mapKind: MapKind;
  /** Whether the method draws random numbers (then it honours `seed`). */
  readonly stochastic?: boolean;
  readonly defaults: Readonly<O>;
  readonly options: OptionSpecs<O>;
  /** Extra validation of merged options and model, before compute. Throw an `XlensError`. */
  validate?(options: Readonly<O>, model: Model, input: Tensor): void;
  attribute(ctx: ExplainContext<O>): Promise<MethodResult<E>>;
}

/**
 * What `explain` resolves to for a method with extras `E`: an `Attribution` whose `coarse` map is
 * present (no `!` needed) when `Coarse` is true, as for every CAM method.
 */
export type AttributionOf<E extends Extras = Extras, Coarse extends boolean = false> = Attribution<E> &
  (Coarse extends true ? { readonly coarse: Tensor } : unknown);

/** A registered, callable method. `Coarse`: whether every result carries a coarse map. */
export interface Explainer<
  O extends object = Record<string, unknown>,
  E extends Extras = Extras,
  Id extends string = string,
  Coarse extends boolean = false,
> extends ExplainerSpec<O, E, Id> {
  /** Validate everything, then run. Same as core's `explain(this, ...)`. */
  explain(
    model: Model,
    input: Tensor,
    target?: TargetSpec,
    options?: ExplainOptions<O>,
  ): Promise<AttributionOf<E, Coarse>>;
}

/** The result of an explain call: raw map per item plus everything needed to reproduce it. */
export interface Attribution<E extends Extras = Extras> {
  readonly method: string;
  readonly map: Tensor;
  readonly mapKind: MapKind;
  /** Layout of `map` when `mapKind` is `input`. */
  readonly layout: 'NCHW' | 'NHWC' | 'NHW';
  readonly coarse?: Tensor;
  /** Class per item, or null for a cotangent target. */
  readonly targets: readonly number[] | null;
  readonly score: ScoreKind;
  /** Options actually used (defaults merged), plus run options. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly timing: { readonly milliseconds: number };
  /** The method's extras (an empty object for methods that report none). */
  readonly extras: E;
  readonly warnings: readonly string[];
}

/**
 * A method whatever its option type: what registries and wrappers hold, since the methods they
 * mix have different options.
 */
// biome-ignore lint/suspicious/noExplicitAny: options are checked per method by mergeOptions at run time.
export type AnyExplainer = Explainer<any, any, string, boolean>;
