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
import { type PlainGradient, plainGradientMap, streamPlainMaps } from './plain-gradient.js';
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
      map: await plainGradientMap(ctx, plan.plain, plan.options, input, model),
      mapKind: plan.explainer.mapKind,
    };
  const result = await ctx.run(plan.explainer, input, plan.options, model);
  return { ...result, mapKind: result.mapKind ?? plan.explainer.mapKind };
}

/**
 * Running per-item mean and variance (Welford) of maps, in float64. Callers add each item's
 * samples in sample order, so the result does not depend on how rows were split into chunks.
 */
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
    const values = map.data.subarray(row * per, (row + 1) * per);
    const mean = this.#mean.subarray(item * per, (item + 1) * per);
    if (!this.#m2) {
      for (let j = 0; j < per; j++) mean[j] += (values[j] - mean[j]) / count;
      return;
    }
    const m2 = this.#m2.subarray(item * per, (item + 1) * per);
    for (let j = 0; j < per; j++) {
      const v = values[j];
      const delta = v - mean[j];
      mean[j] += delta / count;
      m2[j] += delta * (v - mean[j]);
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

/** RNG stream of the input noise of SmoothGrad, VarGrad and FusionGrad. */
export const inputNoiseStream = 100;

/** Settings of one run of noisy input samples. */
export interface NoiseRun {
  readonly samples: number;
  /** Noise standard deviation as a fraction of each item's value range (max − min). */
  readonly sigma: number;
  readonly model: Model;
  /** RNG stream of the noise. */
  readonly stream: number;
  /**
   * Sample index of this run's first sample: sample s draws its noise from
   * `ctx.sampleRng(stream, firstSample + s)` (FusionGrad gives every model its own samples). Default 0.
   */
  readonly firstSample?: number;
  /** Called with the number of (sample, item) rows done so far in this run. */
  readonly progress: (done: number) => void;
}

/** Per item, the noise standard deviation: `sigma` × the item's value range (max − min). */
function noiseScales(input: Tensor, sigma: number): Float64Array {
  const n = input.shape[0];
  const per = sizeOf(input.shape.slice(1));
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < per; j++) {
      lo = Math.min(lo, input.data[i * per + j]);
      hi = Math.max(hi, input.data[i * per + j]);
    }
    std[i] = sigma * (hi - lo);
  }
  return std;
}

/**
 * `out[offset + j] = x[from + j] + scale · noise[j]` for every j of `noise`: a top-level function
 * with its bounds in locals, which V8 compiles to a tight loop (the same loop inside a closure ran
 * about 4× slower, 1.4 ms per 3×224² row).
 */
function addScaled(
  out: Float32Array,
  offset: number,
  x: Float32Array,
  from: number,
  noise: Float64Array,
  scale: number,
): void {
  const count = noise.length;
  for (let j = 0; j < count; j++) out[offset + j] = x[from + j] + scale * noise[j];
}

/**
 * Feed the base maps of `samples` noisy copies of every item into `acc`, item i's copy for sample
 * s being x_i + σ_i·z_s: z_s is one item-shaped standard-normal vector drawn from
 * `ctx.sampleRng(stream, s)` and shared by every item, so the noise depends on (seed, sample) only,
 * never on the batch or an item's place in it, and a batch gives each item its map alone. Plain
 * gradient bases stream the (sample, item) rows through `ctx.streamGradient` (z_s drawn once per
 * sample, rows built one chunk at a time); other bases run once per sample on the whole noisy batch
 * through `ctx.run`. Both paths see the same noise, and each item's samples are accumulated in
 * sample order, so results do not depend on chunk boundaries.
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
  const std = noiseScales(input, run.sigma);
  const first = run.firstSample ?? 0;
  // The noise of the latest sample: rows come in sample order, so one cached draw serves them all.
  const z = new Float64Array(per);
  let drawn = -1;
  const noiseOf = (s: number): Float64Array => {
    if (s !== drawn) {
      ctx.sampleRng(run.stream, first + s).fillNormal(z);
      drawn = s;
    }
    return z;
  };
  /** Writes item i's noisy copy for sample s at `out[offset…]`. */
  const noisyItem = (out: Float32Array, offset: number, s: number, i: number): void =>
    addScaled(out, offset, input.data, i * per, noiseOf(s), std[i]);
  if (plan.plain) {
    acc.mapKind = plan.explainer.mapKind;
    // Rows are (sample s, item i) pairs, sample-major: row r = s·n + i.
    let rows: Float32Array | undefined;
    const stream = {
      rows: run.samples * n,
      items: (r: number) => r % n,
      model: run.model,
      progress: run.progress,
      input: (start: number, end: number): Tensor => {
        // Chunks are built one at a time, each after the previous one is reduced (ADR 0003), so
        // one buffer per chunk size serves them all: no 600 kB allocation per 3×224² row.
        if (rows?.length !== (end - start) * per) rows = new Float32Array((end - start) * per);
        const data = rows;
        for (let r = start; r < end; r++) noisyItem(data, (r - start) * per, Math.floor(r / n), r % n);
        return { data, shape: [end - start, ...itemShape] };
      },
    };
    await streamPlainMaps(ctx, plan.plain, plan.options, stream, (chunk, map) => {
      for (let k = 0; k < chunk.items.length; k++) acc.add(chunk.items[k], map, k);
    });
    return;
  }
  for (let s = 0; s < run.samples; s++) {
    ctx.checkAborted();
    const data = new Float32Array(n * per);
    for (let i = 0; i < n; i++) noisyItem(data, i * per, s, i);
    acc.addResult(await runBase(ctx, plan, { data, shape: [...input.shape] }, run.model));
    run.progress((s + 1) * n);
  }
}
