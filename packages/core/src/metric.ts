import { RegistryError } from './errors.js';
import type {
  AnyExplainer,
  ExplainContext,
  OptionSpecs,
  RunOptions,
  ScoreKind,
  TargetSpec,
} from './explainer.js';
import type { Capability, Layout, Model } from './model.js';
import type { Rng } from './ops/random.js';
import type { ChannelReduction } from './ops/reduce.js';
import type { Tensor } from './tensor.js';

/**
 * What a metric measures (ADR 0004). The categories of Quantus, plus `similarity` (two maps
 * compared, the building block of sanity checks) and `aggregation`.
 */
export type MetricCategory =
  | 'faithfulness'
  | 'robustness'
  | 'localisation'
  | 'randomisation'
  | 'complexity'
  | 'similarity'
  | 'aggregation';

/** Every metric category, in the order of `MetricCategory`. */
export const metricCategories: readonly MetricCategory[] = [
  'faithfulness',
  'robustness',
  'localisation',
  'randomisation',
  'complexity',
  'similarity',
  'aggregation',
];

/**
 * What a metric reads besides its options. `evaluate` checks that the request holds each one
 * before any compute.
 * - `maps`: precomputed attributions (`N×H×W`, or input-shaped and reduced over channels);
 * - `model`: the model, an input batch and a target, for forward passes on perturbed inputs;
 * - `explainer`: an explainer re-run on perturbed inputs (robustness metrics); needs `model` too;
 * - `ground-truth`: a region per item, as masks or boxes (each is derived from the other);
 * - `reference`: a second map per item to compare with (similarity).
 */
export type MetricNeed = 'maps' | 'model' | 'explainer' | 'ground-truth' | 'reference';

/**
 * Which way is better: `higher` or `lower`; `neutral` for measures with no better side
 * (similarity: high is what an explainer should show under small input noise and what it
 * should not show after the model is randomised).
 */
export type MetricDirection = 'higher' | 'lower' | 'neutral';

/**
 * A ground-truth box in pixels, half-open: columns `x0 ≤ x < x1`, rows `y0 ≤ y < y1` (the zoo's
 * convention).
 */
export type Box = readonly [x0: number, y0: number, x1: number, y1: number];

/** One curve of one item: `x` and `y` of equal length. */
export interface MetricCurve {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** What a metric's `compute` returns. */
export interface MetricResult {
  /** One score per item; NaN where the score is undefined for the item (say why in `warnings`). */
  readonly scores: ArrayLike<number>;
  /** One curve per item, for metrics with `curve` set. */
  readonly curves?: readonly MetricCurve[];
  /** Further per-item numbers worth reporting (an IoU, a box area), one array per name. */
  readonly extras?: Readonly<Record<string, ArrayLike<number>>>;
  readonly warnings?: readonly string[];
}

/**
 * Everything a metric sees. Inputs are validated already; a member the metric did not declare a
 * need for throws when read.
 */
export interface MetricContext<O> {
  readonly metric: string;
  /** Defaults merged with the user's options, validated. */
  readonly options: Readonly<O>;
  /** Number of items. */
  readonly n: number;
  /** Spatial size of the maps (and of the input's images). */
  readonly height: number;
  readonly width: number;
  readonly seed: number;
  /** Attributions as pixel maps `N×H×W` (input-shaped maps reduced over channels). Need `maps`. */
  readonly maps: Tensor;
  /**
   * Attributions in the input's shape: as given when they were input-shaped, else each pixel's
   * value spread evenly over its channels (so channel sums equal the pixel map). Need `maps` and `model`.
   */
  readonly inputMaps: Tensor;
  /** The second map per item, `N×H×W`. Need `reference`. */
  readonly reference: Tensor;
  /** Ground-truth masks `N×H×W` of 0/1 (rasterised boxes when boxes were given). Need `ground-truth`. */
  readonly masks: Tensor;
  /** Ground-truth boxes (the tightest box around each mask when masks were given). Need `ground-truth`. */
  readonly boxes: readonly Box[];
  /**
   * The streaming context over the model, input batch and target — `streamForward`, `scores`,
   * `sampleRng`, progress and abort — exactly what `explain()` gives methods (ADR 0003). Need `model`.
   */
  readonly stream: ExplainContext<O>;
  /**
   * Explain a batch of `n` (perturbed) inputs with the request's explainer and the same targets;
   * returns pixel maps `N×H×W`, reduced like `maps`. `options` override the explainer's options,
   * `seed` its run seed. Need `explainer`.
   */
  explain(input: Tensor, options?: Readonly<Record<string, unknown>>, seed?: number): Promise<Tensor>;
  /** Draws that depend on (seed, stream, sample) only, shared by every item (ADR 0003). */
  sampleRng(stream: number, sample: number): Rng;
  /** Report progress of `done` out of `total` units. */
  progress(done: number, total: number): void;
  /** Throw an `aborted` error if the signal fired. */
  checkAborted(): void;
}

/** The data a metric reads, as a user hands it to `evaluate`. Which members are needed: `MetricSpec.needs`. */
export interface EvaluateRequest {
  readonly model?: Model;
  /** Input batch `N×inputShape` in the model's layout. */
  readonly input?: Tensor;
  /** Target per item (default `top1`). */
  readonly target?: TargetSpec;
  /** Attributions: `N×H×W`, or input-shaped (`N×C×H×W`/`N×H×W×C`, reduced with `reduction`). */
  readonly maps?: Tensor;
  /** How input-shaped maps become pixel maps. Default `sum` (signed contributions add up). */
  readonly reduction?: ChannelReduction;
  /** Layout of rank-4 maps when no model is given. */
  readonly layout?: Layout;
  /** A second map per item, same shapes as `maps` (similarity). */
  readonly reference?: Tensor;
  /** Ground-truth masks `N×H×W` (or `H×W` for all items), values 0 or 1. */
  readonly masks?: Tensor;
  /** Ground-truth boxes, one per item (or one for all). */
  readonly boxes?: readonly Box[];
  /** The explainer robustness metrics re-run on perturbed inputs. */
  readonly explainer?: AnyExplainer;
  /** Options of `explainer`. */
  readonly explainerOptions?: Readonly<Record<string, unknown>>;
}

/** Options a user passes to `evaluate`: any subset of the metric's options plus the run options. */
export type EvaluateOptions<O> = Partial<O> & RunOptions;

/** A metric descriptor: data about the metric plus its `compute` function (ADR 0004). */
export interface MetricSpec<O extends object> {
  /** Registry id, kebab-case (`pointing-game`). */
  readonly id: string;
  readonly category: MetricCategory;
  /** Human title. */
  readonly title: string;
  /** Authors, year, venue and arXiv/DOI of the primary paper. */
  readonly citation: string;
  /** What the score means, one or two sentences. */
  readonly description: string;
  /** What the request must hold. */
  readonly needs: readonly MetricNeed[];
  /** Model capabilities beyond `forward` (those of the explainer are checked separately). */
  readonly requires: readonly Capability[];
  readonly direction: MetricDirection;
  /** Range of a score under the default options (±Infinity for unbounded). */
  readonly range: readonly [number, number];
  /** Axis labels of the per-item curve, for metrics that return one. */
  readonly curve?: { readonly x: string; readonly y: string };
  /** How the target's score is read when the user does not say (the paper's choice). Default `logit`. */
  readonly score?: ScoreKind;
  /** Whether the metric draws random numbers (then it honours `seed`). */
  readonly stochastic?: boolean;
  readonly defaults: Readonly<O>;
  readonly options: OptionSpecs<O>;
  /** Extra validation of merged options against the data, before compute. Throw an `XlensError`. */
  validate?(options: Readonly<O>, request: EvaluateRequest): void;
  compute(ctx: MetricContext<O>): Promise<MetricResult>;
}

/** Mean and 95% confidence interval of a metric's scores over the items with a finite score. */
export interface ScoreSummary {
  /** Items with a finite score. */
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  /** Half-width of the 95% confidence interval of the mean (Student t), 0 for one item. */
  readonly ci95: number;
}

/** The result of an `evaluate` call: per-item scores, curves, and everything to reproduce them. */
export interface Evaluation {
  readonly metric: string;
  readonly title: string;
  readonly category: MetricCategory;
  readonly direction: MetricDirection;
  readonly range: readonly [number, number];
  readonly scores: readonly number[];
  readonly summary: ScoreSummary;
  readonly curves?: readonly MetricCurve[];
  readonly curveAxes?: { readonly x: string; readonly y: string };
  readonly extras: Readonly<Record<string, readonly number[]>>;
  /** Class per item (null for a cotangent target or when no model was used). */
  readonly targets: readonly number[] | null;
  readonly score: ScoreKind | null;
  /** Options actually used (defaults merged), plus run options. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly timing: { readonly milliseconds: number };
  readonly warnings: readonly string[];
}

/** A callable metric. */
export interface Metric<O extends object = Record<string, unknown>> extends MetricSpec<O> {
  /** Validate everything, then compute. Same as core's `evaluate(this, ...)`. */
  evaluate(request: EvaluateRequest, options?: EvaluateOptions<O>): Promise<Evaluation>;
}

/** A metric whatever its option type (what registries and listings hold). */
// biome-ignore lint/suspicious/noExplicitAny: options are checked per metric by mergeOptions at run time.
export type AnyMetric = Metric<any>;

/**
 * A set of metrics by id. An instance, never a global: packages export their metrics and the
 * application decides what to register (`new MetricRegistry(evalMetrics)`).
 */
export class MetricRegistry {
  readonly #metrics = new Map<string, AnyMetric>();

  constructor(metrics: Iterable<AnyMetric> = []) {
    for (const m of metrics) this.register(m);
  }

  /** Add a metric; an id registered twice is an error. Returns this for chaining. */
  register(metric: AnyMetric): this {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(metric.id))
      throw new RegistryError('duplicate-metric', `metric id ${JSON.stringify(metric.id)} is not kebab-case`);
    if (this.#metrics.has(metric.id))
      throw new RegistryError('duplicate-metric', `metric ${metric.id} is already registered`);
    this.#metrics.set(metric.id, metric);
    return this;
  }

  /** The metric with this id; throws naming the known ids otherwise. */
  get(id: string): AnyMetric {
    const m = this.#metrics.get(id);
    if (!m)
      throw new RegistryError(
        'unknown-metric',
        `unknown metric ${JSON.stringify(id)}; known metrics: ${[...this.#metrics.keys()].join(', ')}`,
      );
    return m;
  }

  has(id: string): boolean {
    return this.#metrics.has(id);
  }

  /** Every metric, optionally of one category, in registration order. */
  list(category?: MetricCategory): AnyMetric[] {
    return [...this.#metrics.values()].filter((m) => !category || m.category === category);
  }
}
