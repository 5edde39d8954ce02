import type { BackwardRules } from './rules.js';
import type { Tensor } from './tensor.js';

/** Memory layout of an image batch. */
export type Layout = 'NCHW' | 'NHWC';

/** What a model's outputs are. Methods score logits by default; see `ScoreKind`. */
export type OutputKind = 'logits' | 'probabilities';

/**
 * A softmax (or log-softmax) that ends the network, as the backend found it (ADR 0007). Backends
 * remove it by default, so that `forward` returns the logits it reads (`outputKind: 'logits'`);
 * `--score softmax` then still explains the probability.
 */
export interface OutputActivation {
  readonly kind: 'softmax' | 'log-softmax';
  /** The layer (or graph node) that computes it. */
  readonly layer: string;
  /** True when the outputs are its input (the logits); false when it was kept. */
  readonly removed: boolean;
}

/** Static facts about a model. */
export interface ModelInfo {
  /** A short name for reports. */
  readonly name: string;
  /** Shape of one input item in `layout` order, e.g. `[3, 224, 224]` (NCHW) or `[224, 224, 3]` (NHWC). */
  readonly inputShape: readonly number[];
  /** Layout of input batches and of input-shaped attributions. */
  readonly layout: Layout;
  /** Number of outputs (classes). */
  readonly numClasses: number;
  /** Whether the outputs are logits or already probabilities. */
  readonly outputKind: OutputKind;
  /** The softmax head the network ends in, and whether it was removed (ADR 0007). */
  readonly outputActivation?: OutputActivation;
  /** Class labels, index-aligned with the outputs, when known. */
  readonly labels?: readonly string[];
  /**
   * The range of valid input values in the model's own input space (after preprocessing), used for
   * black/white baselines and LRP box bounds. A single pair covers every channel; one pair per
   * channel is allowed.
   */
  readonly inputRange?: readonly [number, number] | readonly (readonly [number, number])[];
}

/**
 * The capabilities a model may offer beyond `forward`. A method lists those it requires and
 * `explain` checks them before any compute.
 */
export type Capability =
  | 'layers'
  | 'capture'
  | 'gradients'
  | 'layer-gradients'
  | 'relu-rules'
  | 'linear-rules'
  | 'derive'
  | 'forward-scaled'
  | 'weights';

/** Broad kind of a layer, backend-neutral. */
export type LayerKind =
  | 'input'
  | 'conv'
  | 'dense'
  | 'batchnorm'
  | 'activation'
  | 'pool'
  | 'global-pool'
  | 'add'
  | 'multiply'
  | 'concat'
  | 'reshape'
  | 'dropout'
  | 'softmax'
  | 'other';

/** One layer (or graph tensor) a method can name. */
export interface LayerInfo {
  /** Name used for captures, gradients and rules. Unique within the model. */
  readonly name: string;
  readonly kind: LayerKind;
  /** The backend's own op name (`Conv2D`, `Conv`, `GlobalAveragePool`, ...). */
  readonly op: string;
  /** Output shape of one item, channels-first for spatial outputs (`[C, H, W]`), `[K]` for vectors. */
  readonly outputShape: readonly number[];
  /** Names of the layers feeding this one, in order. */
  readonly inputs: readonly string[];
  /** Activation fused into the layer (Keras `activation`), if any. */
  readonly activation?: string;
  /** Whether the layer has trainable weights / a bias. */
  readonly hasWeights?: boolean;
  readonly hasBias?: boolean;
}

/** Result of a forward pass that also captured activations. */
export interface CaptureResult {
  /** Model outputs, `N×numClasses`. */
  readonly output: Tensor;
  /** Activations by layer name, channels-first. */
  readonly activations: Readonly<Record<string, Tensor>>;
}

/**
 * Where the backward pass starts.
 * - `output`: a cotangent over the model outputs, `N×numClasses` (one-hot rows for class targets).
 * - `layer`: a cotangent over a layer's activation (channels-first, same shape as the activation);
 *   the objective is `Σ cotangent ⊙ activation`. Synthesis uses this. Needs `layer-gradients`.
 */
export type BackwardSeed =
  | { readonly kind: 'output'; readonly cotangent: Tensor }
  | { readonly kind: 'layer'; readonly layer: string; readonly cotangent: Tensor };

/** One backward call. */
export interface BackwardRequest {
  readonly input: Tensor;
  readonly seed: BackwardSeed;
  /** Return the cotangent at the input (default true). */
  readonly wrtInput?: boolean;
  /** Also return cotangents at these layers' outputs (channels-first). Needs `layer-gradients`. */
  readonly wrtLayers?: readonly string[];
  /** Also return these layers' activations from the same forward pass. Needs `capture`. */
  readonly capture?: readonly string[];
  /** Backward rules; absent means the ordinary gradient. Needs `relu-rules` / `linear-rules`. */
  readonly rules?: BackwardRules;
  /** Also return `inputRelevance` (see `BackwardResult`). */
  readonly relevance?: boolean;
}

/** What a backward call returns. */
export interface BackwardResult {
  /** Forward outputs of the same pass, `N×numClasses`. */
  readonly output: Tensor;
  /** Cotangent at the input, in the input's layout. */
  readonly inputGradient?: Tensor;
  /** Cotangents at the requested layers, channels-first (zeros for layers past a layer seed). */
  readonly layerGradients?: Readonly<Record<string, Tensor>>;
  /** Requested activations, channels-first. */
  readonly activations?: Readonly<Record<string, Tensor>>;
  /**
   * Relevance at the input when `relevance` was requested: `input ⊙ inputGradient`, except where a
   * layer fed by the input carries a `z-box`, `w-square` or `flat` rule, whose own relevance is used.
   */
  readonly inputRelevance?: Tensor;
}

/**
 * Channel-wise scaling of one layer's output during a forward pass (`Model.forwardScaled`):
 * channel `c` of item `i` is multiplied by `scale[i, c]` before the rest of the network runs.
 * A 0 ablates the channel (Ablation-CAM), a 1 keeps it.
 */
export interface ChannelScaling {
  /** Layer whose output is scaled, as named in `layers()`; channels as in its channels-first shape. */
  readonly layer: string;
  /** `N×C` multipliers, row i for input item i. */
  readonly scale: Tensor;
}

/**
 * One weight tensor handed to a `WeightTransform`, in a canonical layout so transforms give the
 * same result on every backend: convolution `O×I×kH×kW`, dense `out×in`, vectors as they are.
 * Roles: conv/dense kernel `weight`, their bias `bias`; BatchNorm γ `weight`, β `bias`, moving
 * mean and variance `other`.
 */
export interface WeightParam {
  /** Layer name as in `layers()`. */
  readonly layer: string;
  /**
   * Position of the layer in `layers()` order. Backends differ in what they list (an input layer,
   * split activations), so transforms should key on `layer`, never on this index.
   */
  readonly layerIndex: number;
  readonly role: 'weight' | 'bias' | 'other';
  readonly shape: readonly number[];
  readonly values: Float32Array;
  /** Which BatchNorm statistic an `other` parameter is (ADR 0006); absent elsewhere. */
  readonly statistic?: 'mean' | 'variance';
  /** The BatchNorm's ε, on each of its parameters (ADR 0006); absent elsewhere. */
  readonly epsilon?: number;
}

/**
 * A host-side transform of weights for `derive`: return new values (same length) or `undefined`
 * to keep the parameter. See `randomizeLayers` and `multiplicativeNoise` in core.
 */
export type WeightTransform = (param: WeightParam) => Float32Array | undefined;

/**
 * The backend-neutral model contract. Only `forward` is required; everything else is an optional
 * capability, listed in `capabilities`, which methods declare they need.
 */
export interface Model {
  readonly info: ModelInfo;
  readonly capabilities: ReadonlySet<Capability>;
  /** Batched forward: `input` is `N×inputShape` in `info.layout`; returns `N×numClasses`. */
  forward(input: Tensor): Promise<Tensor>;
  /** Layers in topological order. Capability `layers`. */
  layers?(): readonly LayerInfo[];
  /** Forward that also returns the named activations. Capability `capture`. */
  capture?(input: Tensor, layers: readonly string[]): Promise<CaptureResult>;
  /** Backward pass. Capabilities `gradients` (+ `layer-gradients`, `relu-rules`, `linear-rules`). */
  backward?(request: BackwardRequest): Promise<BackwardResult>;
  /**
   * Forward with one layer's channels scaled per item (`ChannelScaling`). Capability
   * `forward-scaled` (ADR 0002).
   */
  forwardScaled?(input: Tensor, scaling: ChannelScaling): Promise<Tensor>;
  /** A new model with transformed weights; this one is unchanged. Capability `derive`. */
  derive?(transform: WeightTransform): Promise<Model>;
  /**
   * Read-only copies of the parameters, exactly as `derive` hands them to a transform (canonical
   * layout, same order), of the named layers or of every layer. Capability `weights` (ADR 0006).
   */
  weights?(layers?: readonly string[]): Promise<readonly WeightParam[]>;
  /** Release native resources. Further calls throw a `disposed` error. */
  dispose(): void | Promise<void>;
}
