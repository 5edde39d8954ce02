import {
  type AnyExplainer,
  checkCapabilities,
  type ExplainContext,
  type MapKind,
  type MethodResult,
  type Model,
  mergeOptions,
  OptionError,
  RegistryError,
  sizeOf,
  type Tensor,
  XlensError,
} from '@xlens/core';
import { deconvnet, deconvnetPlain } from './deconvnet.js';
import { fullgrad } from './fullgrad.js';
import { gradient, gradientPlain } from './gradient.js';
import { gradientXInput, gradientXInputPlain } from './gradient-x-input.js';
import { guidedBackprop, guidedBackpropPlain } from './guided-backprop.js';
import { integratedGradients } from './integrated-gradients.js';
import { type PlainGradient, plainGradientMap } from './plain-gradient.js';
import { saliency, saliencyPlain } from './saliency.js';

// Only these exact descriptors take the batched path; a user's method with the same id does not.
const plainMethods = new Map<AnyExplainer, PlainGradient<unknown>>([
  [gradient, gradientPlain],
  [saliency, saliencyPlain],
  [gradientXInput, gradientXInputPlain],
  [guidedBackprop, guidedBackpropPlain],
  [deconvnet, deconvnetPlain],
]);

/** Bases found without a registry: this package's non-wrapper methods. */
const builtinBases: readonly AnyExplainer[] = [
  gradient,
  saliency,
  gradientXInput,
  integratedGradients,
  guidedBackprop,
  deconvnet,
  fullgrad,
];

/** The options every wrapper has: the base method and its options. */
export interface BaseMethodOptions {
  /** Id of the wrapped method (any explainer; resolved through the registry). */
  readonly base: string;
  /** Options of the base method. */
  readonly baseOptions: Readonly<Record<string, unknown>>;
}

/** Option specs of `BaseMethodOptions`, shared by the wrappers. */
export const baseMethodOptionSpecs = {
  base: {
    type: 'string',
    doc: 'id of the base method (any explainer; looked up in the registry, else among this package’s methods)',
  },
  baseOptions: { type: 'json', doc: 'options of the base method' },
} as const;

/** A resolved and validated base method of a wrapper. */
export interface BasePlan {
  readonly explainer: AnyExplainer;
  /** The base's options, defaults merged and validated. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Set when the base is one of this package's plain gradient methods. */
  readonly plain?: PlainGradient<unknown>;
}

/** Check a wrapper's `baseOptions` value. */
export function checkBaseOptions(method: string, value: unknown): void {
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new OptionError(
      'invalid-option',
      `${method}: option baseOptions = ${JSON.stringify(value)} is invalid; expected an object of the base method's options`,
    );
  }
}

/**
 * Resolve a wrapper's base method: through `RunOptions.registry` when one is given, else among this
 * package's non-wrapper methods. Its capabilities and options are checked here, before compute.
 */
export function resolveBase(
  ctx: ExplainContext<unknown>,
  id: string,
  baseOptions: unknown,
  model: Model = ctx.model,
): BasePlan {
  let explainer: AnyExplainer | undefined;
  try {
    explainer = ctx.resolve(id);
  } catch (error) {
    if (!(error instanceof XlensError)) throw error;
    explainer = builtinBases.find((m) => m.id === id);
    if (!explainer) {
      throw new RegistryError(
        'unknown-method',
        `${ctx.method}: unknown base method ${JSON.stringify(id)} (${error.message}); without a registry the bases are ${builtinBases.map((m) => m.id).join(', ')}`,
      );
    }
  }
  checkCapabilities(explainer.id, explainer.requires, model);
  const options = mergeOptions(
    explainer.id,
    explainer.defaults,
    explainer.options,
    (baseOptions ?? {}) as Record<string, unknown>,
  );
  explainer.validate?.(options, model, ctx.input);
  return { explainer, options, plain: plainMethods.get(explainer) };
}

/** Run the base once on `input` (all items) with `model`. */
export async function runBase(
  ctx: ExplainContext<unknown>,
  plan: BasePlan,
  input: Tensor,
  model: Model,
): Promise<MethodResult> {
  if (plan.plain)
    return {
      map: await plainGradientMap(ctx, plan.plain, plan.options, input, { model }),
      mapKind: plan.explainer.mapKind,
    };
  const result = await ctx.run(plan.explainer, input, plan.options, model);
  return { ...result, mapKind: result.mapKind ?? plan.explainer.mapKind };
}

/** Running per-item mean and variance (Welford) of maps, in float64. */
export class MapAccumulator {
  #mean: Float64Array | null = null;
  #m2: Float64Array | null = null;
  #shape: number[] = [];
  #per = 0;
  readonly #counts: Int32Array;
  readonly #variance: boolean;
  /** Base warnings seen, de-duplicated. */
  readonly warnings = new Set<string>();
  /** Map kind of the base. */
  mapKind: MapKind = 'input';

  constructor(items: number, variance: boolean) {
    this.#counts = new Int32Array(items);
    this.#variance = variance;
  }

  /** Add row `row` of `map` as a sample of `item`. */
  add(item: number, map: Tensor, row: number): void {
    if (!this.#mean) {
      this.#shape = map.shape.slice(1);
      this.#per = sizeOf(this.#shape);
      this.#mean = new Float64Array(this.#counts.length * this.#per);
      if (this.#variance) this.#m2 = new Float64Array(this.#mean.length);
    }
    const per = this.#per;
    const count = ++this.#counts[item];
    const mean = this.#mean;
    for (let j = 0; j < per; j++) {
      const v = map.data[row * per + j];
      const e = item * per + j;
      const delta = v - mean[e];
      mean[e] += delta / count;
      if (this.#m2) this.#m2[e] += delta * (v - mean[e]);
    }
  }

  /** Add every item of a full-batch result. */
  addResult(result: MethodResult): void {
    if (result.mapKind) this.mapKind = result.mapKind;
    for (const w of result.warnings ?? []) this.warnings.add(w);
    for (let i = 0; i < this.#counts.length; i++) this.add(i, result.map, i);
  }

  /** Per-item mean, or population variance, of the samples. */
  result(kind: 'mean' | 'variance'): Tensor {
    const source = kind === 'mean' ? this.#mean! : this.#m2!;
    const out = new Float32Array(source.length);
    for (let e = 0; e < out.length; e++)
      out[e] = kind === 'mean' ? source[e] : source[e] / this.#counts[Math.floor(e / this.#per)];
    return { data: out, shape: [this.#counts.length, ...this.#shape] };
  }
}

/** Settings of one run of noisy input samples. */
export interface NoiseRun {
  readonly samples: number;
  /** Noise standard deviation as a fraction of each item's value range (max − min). */
  readonly sigma: number;
  readonly model: Model;
  /** RNG stream of the noise. */
  readonly stream: number;
  /** Called with the number of (sample, item) rows done so far in this run. */
  readonly progress: (done: number) => void;
}

/**
 * Feed the base maps of `samples` noisy copies of every item into `acc`. Noise is drawn
 * sample-major (sample, item, value) from one RNG stream, so the batched path (plain gradient
 * bases: chunks of `batchSize` noisy rows) and the per-sample path (`ctx.run`) draw the same noise.
 */
export async function addNoisySamples(
  ctx: ExplainContext<unknown>,
  plan: BasePlan,
  run: NoiseRun,
  acc: MapAccumulator,
): Promise<void> {
  const { input } = ctx;
  const n = input.shape[0];
  const itemShape = input.shape.slice(1);
  const per = sizeOf(itemShape);
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < per; j++) {
      lo = Math.min(lo, input.data[i * per + j]);
      hi = Math.max(hi, input.data[i * per + j]);
    }
    std[i] = run.sigma * (hi - lo);
  }
  const rng = ctx.rng(run.stream);
  const total = run.samples * n;
  const rowsAt = (start: number, end: number): Tensor => {
    const data = new Float32Array((end - start) * per);
    for (let r = start; r < end; r++) {
      const i = r % n;
      const o = (r - start) * per;
      for (let j = 0; j < per; j++) data[o + j] = input.data[i * per + j] + std[i] * rng.normal();
    }
    return { data, shape: [end - start, ...itemShape] };
  };
  const step = plan.plain ? ctx.batchSize : n;
  for (let start = 0; start < total; start += step) {
    ctx.checkAborted();
    const end = Math.min(total, start + step);
    const rows = rowsAt(start, end);
    if (plan.plain) {
      const items = Array.from({ length: end - start }, (_, k) => (start + k) % n);
      const map = await plainGradientMap(ctx, plan.plain, plan.options, rows, { items, model: run.model });
      acc.mapKind = plan.explainer.mapKind;
      for (let k = 0; k < items.length; k++) acc.add(items[k], map, k);
    } else {
      acc.addResult(await runBase(ctx, plan, rows, run.model));
    }
    run.progress(end);
  }
}
