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

/**
 * `out[r·outStride + c] += Σ_p a[r·len + p] · b[c·len + p]` for r < rows, c < cols: the product
 * A·Bᵀ of two row-major matrices sharing their row length, added in place. Blocked 4×4 (sixteen
 * running sums per pass over a block of p, eight loads per sixteen multiply-adds) and tiled over p
 * so the rows in use stay in cache; sums run in float64.
 */
export function addProducts(
  a: Float32Array,
  rows: number,
  b: Float32Array,
  cols: number,
  len: number,
  out: Float64Array,
  outStride: number,
): void {
  const tile = 512;
  for (let p0 = 0; p0 < len; p0 += tile) {
    const p1 = Math.min(len, p0 + tile);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const a0 = r * len;
      const a1 = a0 + len;
      const a2 = a1 + len;
      const a3 = a2 + len;
      let c = 0;
      for (; c + 4 <= cols; c += 4) {
        const b0 = c * len;
        const b1 = b0 + len;
        const b2 = b1 + len;
        const b3 = b2 + len;
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0,
          s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0,
          s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let p = p0; p < p1; p++) {
          const x0 = b[b0 + p];
          const x1 = b[b1 + p];
          const x2 = b[b2 + p];
          const x3 = b[b3 + p];
          const y0 = a[a0 + p];
          s00 += y0 * x0;
          s01 += y0 * x1;
          s02 += y0 * x2;
          s03 += y0 * x3;
          const y1 = a[a1 + p];
          s10 += y1 * x0;
          s11 += y1 * x1;
          s12 += y1 * x2;
          s13 += y1 * x3;
          const y2 = a[a2 + p];
          s20 += y2 * x0;
          s21 += y2 * x1;
          s22 += y2 * x2;
          s23 += y2 * x3;
          const y3 = a[a3 + p];
          s30 += y3 * x0;
          s31 += y3 * x1;
          s32 += y3 * x2;
          s33 += y3 * x3;
        }
        let o = r * outStride + c;
        out[o] += s00;
        out[o + 1] += s01;
        out[o + 2] += s02;
        out[o + 3] += s03;
        o += outStride;
        out[o] += s10;
        out[o + 1] += s11;
        out[o + 2] += s12;
        out[o + 3] += s13;
        o += outStride;
        out[o] += s20;
        out[o + 1] += s21;
        out[o + 2] += s22;
        out[o + 3] += s23;
        o += outStride;
        out[o] += s30;
        out[o + 1] += s31;
        out[o + 2] += s32;
        out[o + 3] += s33;
      }
      for (; c < cols; c++) addDots(a, r, r + 4, b, c, len, p0, p1, out, outStride);
    }
    for (; r < rows; r++)
      for (let c = 0; c < cols; c++) addDots(a, r, r + 1, b, c, len, p0, p1, out, outStride);
  }
}

/** The remainder of `addProducts`: rows r0…r1 − 1 against column c, over p0…p1 − 1. */
function addDots(
  a: Float32Array,
  r0: number,
  r1: number,
  b: Float32Array,
  c: number,
  len: number,
  p0: number,
  p1: number,
  out: Float64Array,
  outStride: number,
): void {
  const bc = c * len;
  for (let r = r0; r < r1; r++) {
    const ar = r * len;
    let sum = 0;
    for (let p = p0; p < p1; p++) sum += a[ar + p] * b[bc + p];
    out[r * outStride + c] += sum;
  }
}

/**
 * Running sums of one layer: per output unit, Σm, Σm·y, Σm·y², Σm·x, Σm·x·y (m the regime mask:
 * 1, or y > 0 for the positive estimator). Samples arrive as matrices, so the two patch sums are
 * the products M·Xᵀ and (M⊙Y)·Xᵀ.
 * @internal
 */
export class Moments {
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

  /**
   * Add `len` samples of units `u0…u0 + rows − 1`: `y` unit-major (rows × len), `xt` input-major
   * (patch × len, row i = input i of every sample). Overwrites `y` with the masked outputs.
   */
  addSamples(y: Float32Array, u0: number, rows: number, xt: Float32Array, len: number): void {
    const sxy = this.sxy.subarray(u0 * this.patch, (u0 + rows) * this.patch);
    const sx = this.sx.subarray(u0 * this.patch, (u0 + rows) * this.patch);
    if (!this.positive) {
      for (let r = 0; r < rows; r++) {
        let s1 = 0;
        let s2 = 0;
        for (let p = r * len; p < (r + 1) * len; p++) {
          s1 += y[p];
          s2 += y[p] * y[p];
        }
        this.count[u0 + r] += len;
        this.sy[u0 + r] += s1;
        this.syy[u0 + r] += s2;
      }
      addProducts(y, rows, xt, this.patch, len, sxy, this.patch);
      // Every unit sees every sample: Σx is shared.
      for (let i = 0; i < this.patch; i++) {
        let s = 0;
        for (let p = i * len; p < (i + 1) * len; p++) s += xt[p];
        for (let r = 0; r < rows; r++) sx[r * this.patch + i] += s;
      }
      return;
    }
    const mask = new Float32Array(rows * len);
    for (let r = 0; r < rows; r++) {
      let n = 0;
      let s1 = 0;
      let s2 = 0;
      for (let p = r * len; p < (r + 1) * len; p++) {
        const v = y[p];
        if (v > 0) {
          n++;
          s1 += v;
          s2 += v * v;
          mask[p] = 1;
        } else y[p] = 0;
      }
      this.count[u0 + r] += n;
      this.sy[u0 + r] += s1;
      this.syy[u0 + r] += s2;
    }
    addProducts(mask, rows, xt, this.patch, len, sx, this.patch);
    addProducts(y, rows, xt, this.patch, len, sxy, this.patch);
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

/** One layer being fitted. @internal */
export interface Plan {
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

/**
 * Accumulate one chunk: `x` channels-first inputs of the layer, `y` its outputs. Items are added
 * one at a time, in order, so the sums (and the patterns) do not depend on how items are chunked.
 * @internal
 */
export function accumulate(plan: Plan, x: Tensor, y: Tensor): void {
  const n = x.shape[0];
  const m = plan.moments;
  if (plan.layer.kind === 'dense') {
    const inn = m.patch;
    const out = m.units;
    for (let b = 0; b < n; b++)
      m.addSamples(y.data.slice(b * out, (b + 1) * out), 0, out, x.data.subarray(b * inn, (b + 1) * inn), 1);
    return;
  }
  const g = plan.geometry!;
  const perGroup = g.inC / g.groups;
  const outPerGroup = g.outC / g.groups;
  const len = g.outH * g.outW;
  const plane = g.inH * g.inW;
  const xt = new Float32Array(m.patch * len);
  for (let b = 0; b < n; b++) {
    for (let grp = 0; grp < g.groups; grp++) {
      // im2col, transposed: row (c, ky, kx) holds that input at every output position.
      xt.fill(0);
      let at = 0;
      for (let c = 0; c < perGroup; c++) {
        const src = (b * g.inC + grp * perGroup + c) * plane;
        for (let ky = 0; ky < g.kH; ky++)
          for (let kx = 0; kx < g.kW; kx++)
            for (let oy = 0; oy < g.outH; oy++) {
              const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
              if (iy < 0 || iy >= g.inH) {
                at += g.outW;
                continue;
              }
              const line = src + iy * g.inW;
              for (let ox = 0; ox < g.outW; ox++, at++) {
                const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
                if (ix >= 0 && ix < g.inW) xt[at] = x.data[line + ix];
              }
            }
      }
      // Channels-first outputs of one item are already unit-major.
      const from = (b * g.outC + grp * outPerGroup) * len;
      m.addSamples(y.data.slice(from, from + outPerGroup * len), grp * outPerGroup, outPerGroup, xt, len);
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

/**
 * Conv geometries already probed, per model: a model's layers never change (derive makes a new
 * model), so PatternNet and PatternAttribution, which fit inside every run, probe each layer once.
 */
const measuredGeometry = new WeakMap<Model, Map<string, ConvGeometry>>();

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
  const known = measuredGeometry.get(model) ?? new Map<string, ConvGeometry>();
  measuredGeometry.set(model, known);
  for (const p of convs) {
    const key = JSON.stringify([p.layer.name, p.source.layer, sample.shape]);
    const g = known.get(key) ?? (await probeConvGeometry(model, p.layer, p.source, p.weightShape, sample));
    known.set(key, g);
    p.geometry = g;
  }
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
