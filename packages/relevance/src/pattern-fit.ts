import {
  batchStream,
  type Capability,
  CapabilityError,
  type ExplainContext,
  type ExplainerSpec,
  explain,
  item,
  type LayerInfo,
  type Model,
  OptionError,
  sizeOf,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import {
  type ConvGeometry,
  inputChannelsFirst,
  type LayerSource,
  probeConvGeometry,
} from './conv-geometry.js';
import { layersOf, linearLayers } from './graph.js';
import { readWeights } from './read-weights.js';

/** Signal estimator: linear (all samples), or positive (samples where the output is > 0, for ReLU units). */
export type PatternEstimator = 'linear' | 'positive';

/** The fitted pattern of one linear layer, in the canonical layout of its weight. */
export interface LayerPattern {
  /** How it was fitted; absent when not recorded (patterns loaded from `.npz`). */
  readonly estimator?: PatternEstimator;
  readonly pattern: Tensor;
}

/** Patterns of a model's linear layers, by layer name. */
export interface Patterns {
  /** Name of the model they were fitted on (informative). */
  readonly model: string;
  readonly layers: Readonly<Record<string, LayerPattern>>;
}

/** Options of `fitPatterns`. */
export interface FitPatternsOptions {
  /** `auto`: positive before ReLUs (fused or next layer), linear elsewhere. Default `auto`. */
  readonly estimator?: 'auto' | PatternEstimator;
  /** Items per capture pass. Default: core's `defaultBatchSize`. */
  readonly batchSize?: number;
  /** Fit only these layers (default: every conv and dense layer). */
  readonly layers?: readonly string[];
  /** Called after each chunk with the number of items done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborts fitting between chunks (an `XlensError` with code `aborted`). */
  readonly signal?: AbortSignal;
}

/** Running sums of one layer: per output unit, Σm, Σm·y, Σm·y², Σm·x, Σm·x·y (m the regime mask). */
class Moments {
  readonly count: Float64Array;
  readonly sy: Float64Array;
  readonly syy: Float64Array;
  readonly sx: Float64Array;
  readonly sxy: Float64Array;
  constructor(
    readonly units: number,
    readonly patch: number,
    readonly positive: boolean,
  ) {
    this.count = new Float64Array(units);
    this.sy = new Float64Array(units);
    this.syy = new Float64Array(units);
    this.sx = new Float64Array(units * patch);
    this.sxy = new Float64Array(units * patch);
  }
  add(unit: number, y: number, x: Float64Array): void {
    if (this.positive && !(y > 0)) return;
    this.count[unit]++;
    this.sy[unit] += y;
    this.syy[unit] += y * y;
    const base = unit * this.patch;
    for (let i = 0; i < this.patch; i++) {
      this.sx[base + i] += x[i];
      this.sxy[base + i] += x[i] * y;
    }
  }
  /** a = cov(x, y) / var(y) per unit (= cov(x, y) / wᵀcov(x, y), since wᵀx = y − b); 0 without signal. */
  pattern(): Float32Array {
    const out = new Float32Array(this.units * this.patch);
    for (let u = 0; u < this.units; u++) {
      const n = this.count[u];
      if (n < 2) continue;
      const ey = this.sy[u] / n;
      const variance = this.syy[u] / n - ey * ey;
      if (!(variance > 1e-12 * Math.max(1, ey * ey))) continue;
      for (let i = 0; i < this.patch; i++) {
        const k = u * this.patch + i;
        out[k] = (this.sxy[k] / n - (this.sx[k] / n) * ey) / variance;
      }
    }
    return out;
  }
}

interface Plan {
  readonly layer: LayerInfo;
  readonly source: LayerSource;
  readonly weightShape: readonly number[];
  readonly moments: Moments;
  geometry?: ConvGeometry;
}

function isRelu(l: LayerInfo): boolean {
  return l.kind === 'activation' && /relu/i.test(l.op);
}

function sourceOf(model: Model, layer: LayerInfo, byName: ReadonlyMap<string, LayerInfo>): LayerSource {
  const from = byName.get(layer.inputs[0] ?? '');
  if (from && from.kind !== 'input') return { layer: from.name, shape: from.outputShape };
  const s = model.info.inputShape;
  return { layer: null, shape: model.info.layout === 'NHWC' && s.length === 3 ? [s[2], s[0], s[1]] : s };
}

function estimatorFor(
  layer: LayerInfo,
  layers: readonly LayerInfo[],
  wanted: 'auto' | PatternEstimator,
): PatternEstimator {
  const fused = layer.activation ?? 'linear';
  if (fused !== 'linear' && fused !== 'relu') {
    throw new UnsupportedError(
      'unsupported',
      `pattern fitting needs the pre-activation output of ${layer.name}, which has the fused activation ${fused}`,
    );
  }
  if (fused === 'relu' && wanted === 'linear') {
    throw new OptionError(
      'invalid-option',
      `estimator linear cannot be fitted on ${layer.name}: its fused ReLU hides the negative outputs; use auto or positive`,
    );
  }
  if (wanted !== 'auto') return wanted;
  return fused === 'relu' || layers.some((l) => l.inputs.includes(layer.name) && isRelu(l))
    ? 'positive'
    : 'linear';
}

/** Accumulate one chunk: `x` channels-first inputs of the layer, `y` its outputs. */
function accumulate(plan: Plan, x: Tensor, y: Tensor): void {
  const n = x.shape[0];
  const m = plan.moments;
  if (plan.layer.kind === 'dense') {
    const inn = m.patch;
    const out = m.units;
    for (let b = 0; b < n; b++) {
      const xv = Float64Array.from(x.data.subarray(b * inn, (b + 1) * inn));
      for (let u = 0; u < out; u++) m.add(u, y.data[b * out + u], xv);
    }
    return;
  }
  const g = plan.geometry!;
  const perGroup = g.inC / g.groups;
  const outPerGroup = g.outC / g.groups;
  const patch = new Float64Array(m.patch);
  for (let b = 0; b < n; b++) {
    const xb = b * g.inC * g.inH * g.inW;
    for (let grp = 0; grp < g.groups; grp++)
      for (let oy = 0; oy < g.outH; oy++)
        for (let ox = 0; ox < g.outW; ox++) {
          let k = 0;
          for (let c = 0; c < perGroup; c++)
            for (let ky = 0; ky < g.kH; ky++) {
              const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
              for (let kx = 0; kx < g.kW; kx++) {
                const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
                patch[k++] =
                  iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW
                    ? x.data[xb + ((grp * perGroup + c) * g.inH + iy) * g.inW + ix]
                    : 0;
              }
            }
          for (let o = grp * outPerGroup; o < (grp + 1) * outPerGroup; o++) {
            m.add(o, y.data[((b * g.outC + o) * g.outH + oy) * g.outW + ox], patch);
          }
        }
  }
}

/** The capabilities fitting needs besides the conv probe's, checked before any compute. */
function checkFitCapabilities(model: Model): void {
  for (const cap of ['layers', 'capture', 'weights'] as const) {
    if (!model.capabilities.has(cap))
      throw new CapabilityError(`fitting patterns needs ${cap}, which ${model.info.name} does not offer`);
  }
}

/** Validate the options against the model, read the weights and measure the conv geometry. */
async function planFit(
  model: Model,
  sample: Tensor,
  options: FitOptions,
): Promise<{ plans: Plan[]; captured: string[] }> {
  const all = layersOf(model, 'fitPatterns');
  const byName = new Map(all.map((l) => [l.name, l]));
  const wanted = options.layers ? new Set(options.layers) : null;
  for (const name of wanted ?? [])
    if (!byName.has(name))
      throw new OptionError(
        'invalid-option',
        `fitPatterns: ${model.info.name} has no layer ${JSON.stringify(name)}`,
      );
  const targets = linearLayers(all)
    .filter((l) => !wanted || wanted.has(l.layer.name))
    .map((l) => l.layer);
  const weights = await readWeights(
    model,
    targets.map((l) => l.name),
    'fitPatterns',
  );
  const plans: Plan[] = targets.map((layer) => {
    const weightShape = weights.get(layer.name)?.shape;
    if (!weightShape)
      throw new UnsupportedError(
        'unsupported',
        `fitPatterns: ${model.info.name} did not hand out the weight of ${layer.name}`,
      );
    const positive = estimatorFor(layer, all, options.estimator ?? 'auto') === 'positive';
    return {
      layer,
      source: sourceOf(model, layer, byName),
      weightShape,
      moments: new Moments(weightShape[0], sizeOf(weightShape.slice(1)), positive),
    };
  });
  const convs = plans.filter((p) => p.layer.kind === 'conv');
  const probeNeeds = [
    ...(convs.length > 0 ? ['layer-gradients', 'linear-rules'] : []),
    ...(convs.some((p) => p.layer.activation === 'relu') ? ['relu-rules'] : []),
  ].filter((c) => !model.capabilities.has(c as Capability));
  if (probeNeeds.length > 0 || (convs.length > 0 && !model.backward)) {
    throw new CapabilityError(
      `fitting conv patterns measures the conv geometry with a backward probe, which needs ${probeNeeds.join(', ') || 'gradients'}; ${model.info.name} does not offer it`,
    );
  }
  for (const p of convs)
    p.geometry = await probeConvGeometry(model, p.layer, p.source, p.weightShape, sample);
  const captured = [
    ...new Set(plans.flatMap((p) => (p.source.layer ? [p.layer.name, p.source.layer] : [p.layer.name]))),
  ];
  return { plans, captured };
}

/** What fitting inside a run takes: the fitting half of `FitPatternsOptions`. */
export type FitOptions = Pick<FitPatternsOptions, 'estimator' | 'layers'>;

/**
 * `fitPatterns` inside a run: `inputs` stream through `ctx.streamCapture`, so they are captured
 * `ctx.batchSize` rows at a time, with the run's progress and abort. PatternNet and
 * PatternAttribution use it to fit on the explained batch.
 */
export async function fitPatternsInRun(
  ctx: ExplainContext<unknown>,
  inputs: Tensor,
  options: FitOptions = {},
): Promise<Patterns> {
  const model = ctx.model;
  checkFitCapabilities(model);
  const { plans, captured } = await planFit(model, item(inputs, 0), options);
  // A dense layer reads the input in its own flattening order; a conv reads it channels-first.
  const convOnInput = plans.some((p) => p.source.layer === null && p.layer.kind === 'conv');
  await ctx.streamCapture({ ...batchStream(inputs), layers: captured }, ({ input, activations }) => {
    const channelsFirst = convOnInput ? inputChannelsFirst(model, input) : input;
    for (const p of plans) {
      const x = p.source.layer
        ? activations[p.source.layer]
        : p.layer.kind === 'conv'
          ? channelsFirst
          : input;
      accumulate(p, x, activations[p.layer.name]);
    }
  });
  const layers: Record<string, LayerPattern> = {};
  for (const p of plans) {
    layers[p.layer.name] = {
      estimator: p.moments.positive ? 'positive' : 'linear',
      pattern: { data: p.moments.pattern(), shape: [...p.weightShape] },
    };
  }
  return { model: model.info.name, layers };
}

/**
 * Fit PatternNet / PatternAttribution signal estimators (Kindermans et al., 2018,
 * arXiv:1705.05598) from a set of inputs: for each conv/dense layer and output unit,
 * `a = (E[xy] − E[x]E[y]) / (wᵀE[xy] − wᵀE[x]E[y])`, over all samples (`linear`) or those where
 * the unit is active (`positive`, the two-component estimator's ReLU half). A layer's input is the
 * output of the layer it lists in `inputs` (or the model input); convolutions are fitted over
 * every output position of their receptive-field patches. `inputs` are validated like an explained
 * batch and streamed through core's run machinery, `batchSize` rows at a time.
 */
export async function fitPatterns(
  model: Model,
  inputs: Tensor,
  options: FitPatternsOptions = {},
): Promise<Patterns> {
  checkFitCapabilities(model);
  let patterns: Patterns | undefined;
  // Fitting is not an attribution, but it streams like one: a one-off explainer gives it a run
  // context (chunking, validation, progress, abort) and hands the patterns out through `patterns`.
  const fitter: ExplainerSpec<Record<never, never>> = {
    id: 'fit-patterns',
    family: 'relevance',
    title: 'Pattern fitting',
    citation: 'Kindermans et al., 2018, ICLR, arXiv:1705.05598',
    description: 'Fits the signal patterns of PatternNet and PatternAttribution; not a method.',
    requires: [],
    mapKind: 'input',
    defaults: {},
    options: {},
    async attribute(ctx) {
      patterns = await fitPatternsInRun(ctx, ctx.input, options);
      return { map: { data: new Float32Array(0), shape: [0] } };
    },
  };
  const onProgress = options.onProgress;
  // Target 0 is never read; any class index spares the prediction pass `top1` would run.
  await explain(fitter, model, inputs, 0, {
    batchSize: options.batchSize,
    signal: options.signal,
    onProgress: onProgress && ((p) => onProgress(p.done, p.total)),
  });
  return patterns!;
}
