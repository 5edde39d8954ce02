/**
 * A `ToySpec` compiled into float64 layers with a forward trace and a rule-aware backward pass.
 * Everything here is channels-first; layouts are the business of `reference-model.ts`.
 * @internal
 */
import { UnsupportedError } from '../errors.js';
import type { LayerInfo, LayerKind } from '../model.js';
import type { LinearRule, ReluRule } from '../rules.js';
import { applyLinearRule, type LinearOp } from './linear-rules.js';
import {
  avgPool,
  batchNormAffine,
  channelAffine,
  conv2d,
  conv2dTranspose,
  dense,
  denseTranspose,
  forEachPoolWindow,
  globalAvgPool,
  mapF64,
  maxPool,
  poolShape,
} from './ops.js';
import type { ToyLayer, ToySpec } from './spec.js';

/** One compiled layer. */
export interface NetLayer {
  readonly spec: ToyLayer;
  readonly info: LayerInfo;
  /** Channels-first item shapes. */
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** Conv / dense only. */
  readonly linear?: LinearOp;
  readonly weight?: Float64Array;
  readonly bias?: Float64Array | null;
  /** BatchNorm only: the per-channel affine map. */
  readonly affine?: { readonly scale: Float64Array; readonly shift: Float64Array };
  /** Add only: the value index (0 = input, j + 1 = layer j's output) of the second addend. */
  readonly addFrom?: number;
  readonly fusedRelu: boolean;
}

/** A compiled network. */
export interface Network {
  readonly spec: ToySpec;
  readonly layers: readonly NetLayer[];
}

/** Activations of one forward pass: `values[0]` is the input, `values[i + 1]` layer i's output. */
export interface Trace {
  readonly n: number;
  readonly values: Float64Array[];
  /** Pre-activation `z` of layers with a fused ReLU. */
  readonly pre: (Float64Array | null)[];
  /** Max-pool winners (flat indices into the layer input). */
  readonly winners: (Int32Array | null)[];
}

/** The rules of one backward pass, resolved to float64 data. */
export interface BackwardPlan {
  /** Value index where the seed sits: 0 = input, i + 1 = output of layer i. */
  readonly start: number;
  readonly seed: Float64Array;
  readonly relu: ReluRule;
  readonly linear: Readonly<Record<string, LinearRule>>;
  readonly maxPool: 'winner' | 'proportional';
  readonly foldBatchNorm: boolean;
  /** Rules see biases as zero (`BackwardRules.ignoreBias`). */
  readonly ignoreBias?: boolean;
  /** Forward trace of the reference input (batch-aligned), for `relu: 'rescale'`. */
  readonly reference?: Trace;
  /** Box bounds shaped like the input batch (channels-first), for `z-box`. */
  readonly low?: Float64Array;
  readonly high?: Float64Array;
  /** Pattern weights by layer name, for `pattern`. */
  readonly patterns?: Readonly<Record<string, Float64Array>>;
}

const f32 = (values: readonly number[]): Float64Array => Float64Array.from(values, Math.fround);
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function fail(spec: ToySpec, layer: ToyLayer, why: string): never {
  throw new UnsupportedError('invalid-model', `toy spec ${spec.name}, layer ${layer.name}: ${why}`);
}

function checkLength(spec: ToySpec, layer: ToyLayer, what: string, got: number, want: number): void {
  if (got !== want) fail(spec, layer, `${what} has ${got} values, expected ${want}`);
}

const kinds: Record<ToyLayer['type'], [LayerKind, string]> = {
  conv: ['conv', 'Conv2D'],
  dense: ['dense', 'Dense'],
  relu: ['activation', 'ReLU'],
  'max-pool': ['pool', 'MaxPool2D'],
  'avg-pool': ['pool', 'AveragePool2D'],
  'global-avg-pool': ['global-pool', 'GlobalAveragePool'],
  flatten: ['reshape', 'Flatten'],
  batchnorm: ['batchnorm', 'BatchNorm'],
  add: ['add', 'Add'],
};

/** Validate a spec and compile it. Throws `invalid-model` naming the offending layer. */
export function compileNetwork(spec: ToySpec): Network {
  let shape: readonly number[] = [...spec.inputShape];
  let previous = 'input';
  /** Output shape by value name, for the second addend of `add`. */
  const shapes = new Map<string, readonly number[]>([['input', shape]]);
  const seen = new Set(['input']);
  const layers: NetLayer[] = [];
  for (const l of spec.layers) {
    if (seen.has(l.name)) fail(spec, l, 'duplicate layer name (input is reserved)');
    seen.add(l.name);
    const inShape = shape;
    let out: readonly number[];
    let extra: Partial<NetLayer> = {};
    if (l.type === 'conv') {
      if (inShape.length !== 3 || inShape[0] !== l.inChannels)
        fail(spec, l, `input shape [${inShape.join(', ')}] does not have ${l.inChannels} channels`);
      const stride = l.stride ?? 1;
      const same = l.padding === 'same';
      if (same && (stride !== 1 || l.kernel % 2 === 0))
        fail(spec, l, "padding 'same' needs stride 1 and an odd kernel");
      const pad = same ? (l.kernel - 1) / 2 : 0;
      const geo = {
        inC: l.inChannels,
        inH: inShape[1],
        inW: inShape[2],
        outC: l.outChannels,
        outH: Math.floor((inShape[1] + 2 * pad - l.kernel) / stride) + 1,
        outW: Math.floor((inShape[2] + 2 * pad - l.kernel) / stride) + 1,
        k: l.kernel,
        stride,
        pad,
      };
      if (geo.outH < 1 || geo.outW < 1) fail(spec, l, 'output would be empty');
      checkLength(spec, l, 'weight', l.weight.length, l.outChannels * l.inChannels * l.kernel * l.kernel);
      if (l.bias) checkLength(spec, l, 'bias', l.bias.length, l.outChannels);
      out = [geo.outC, geo.outH, geo.outW];
      extra = {
        linear: {
          apply: (x, n, w, b) => conv2d(x, n, geo, w, b),
          transpose: (g, n, w) => conv2dTranspose(g, n, geo, w),
        },
        weight: f32(l.weight),
        bias: l.bias ? f32(l.bias) : null,
      };
    } else if (l.type === 'dense') {
      if (inShape.length !== 1 || inShape[0] !== l.inFeatures)
        fail(spec, l, `input shape [${inShape.join(', ')}] is not [${l.inFeatures}]`);
      checkLength(spec, l, 'weight', l.weight.length, l.outFeatures * l.inFeatures);
      if (l.bias) checkLength(spec, l, 'bias', l.bias.length, l.outFeatures);
      out = [l.outFeatures];
      const { inFeatures: i, outFeatures: o } = l;
      extra = {
        linear: {
          apply: (x, n, w, b) => dense(x, n, i, o, w, b),
          transpose: (g, n, w) => denseTranspose(g, n, i, o, w),
        },
        weight: f32(l.weight),
        bias: l.bias ? f32(l.bias) : null,
      };
    } else if (l.type === 'max-pool' || l.type === 'avg-pool') {
      if (inShape.length !== 3) fail(spec, l, 'pooling needs a [C, H, W] input');
      out = poolShape(inShape[0], inShape[1], inShape[2], l.size);
      if (out[1] < 1 || out[2] < 1) fail(spec, l, 'output would be empty');
    } else if (l.type === 'global-avg-pool') {
      if (inShape.length !== 3) fail(spec, l, 'global pooling needs a [C, H, W] input');
      out = [inShape[0]];
    } else if (l.type === 'flatten') {
      out = [size(inShape)];
    } else if (l.type === 'batchnorm') {
      for (const key of ['gamma', 'beta', 'mean', 'variance'] as const)
        checkLength(spec, l, key, l[key].length, inShape[0]);
      extra = {
        affine: batchNormAffine(
          f32(l.gamma),
          f32(l.beta),
          f32(l.mean),
          f32(l.variance),
          Math.fround(l.epsilon),
        ),
      };
      out = inShape;
    } else if (l.type === 'add') {
      const other = shapes.get(l.from);
      if (!other) fail(spec, l, `adds ${JSON.stringify(l.from)}, which is not input or an earlier layer`);
      if (other.join() !== inShape.join())
        fail(spec, l, `adds ${l.from} of shape [${other.join(', ')}] to shape [${inShape.join(', ')}]`);
      const from = l.from === 'input' ? 0 : layers.findIndex((x) => x.spec.name === l.from) + 1;
      extra = { addFrom: from };
      out = inShape;
    } else {
      out = inShape;
    }
    const fusedRelu = (l.type === 'conv' || l.type === 'dense') && l.activation === 'relu';
    const [kind, op] = kinds[l.type];
    const info: LayerInfo = {
      name: l.name,
      kind,
      op,
      outputShape: [...out],
      inputs: l.type === 'add' ? [previous, l.from] : [previous],
      ...(l.type === 'conv' || l.type === 'dense'
        ? { activation: l.activation ?? 'linear', hasWeights: true, hasBias: l.bias !== undefined }
        : l.type === 'batchnorm'
          ? { hasWeights: true, hasBias: true }
          : {}),
    };
    layers.push({ spec: l, info, inShape, outShape: out, fusedRelu, ...extra });
    shape = out;
    shapes.set(l.name, out);
    previous = l.name;
  }
  if (shape.length !== 1 || shape[0] !== spec.numClasses) {
    throw new UnsupportedError(
      'invalid-model',
      `toy spec ${spec.name} ends in shape [${shape.join(', ')}], expected [${spec.numClasses}]`,
    );
  }
  return { spec, layers };
}

const reluF = (v: number): number => Math.max(v, 0);

/** Per-item channel multipliers applied to one value (`Model.forwardScaled`). */
export interface Scaling {
  /** Value index: 0 = input, i + 1 = output of layer i. */
  readonly index: number;
  /** `n × C` multipliers. */
  readonly scale: Float64Array;
}

function scaleChannels(v: Float64Array, shape: readonly number[], scale: Float64Array): Float64Array {
  const c = shape[0];
  const plane = size(shape.slice(1));
  return mapF64(
    v,
    (value, j) => value * scale[Math.floor(j / (c * plane)) * c + (Math.floor(j / plane) % c)],
  );
}

/**
 * Forward pass recording every activation. `x` is a channels-first batch of `n` items. With
 * `scaling`, that value's channels are multiplied before the rest of the network runs.
 */
export function forwardTrace(net: Network, x: Float64Array, n: number, scaling?: Scaling): Trace {
  const values = [scaling?.index === 0 ? scaleChannels(x, net.spec.inputShape, scaling.scale) : x];
  const pre: (Float64Array | null)[] = [];
  const winners: (Int32Array | null)[] = [];
  for (const layer of net.layers) {
    const v = values[values.length - 1];
    const [c, h, w] = layer.inShape;
    const l = layer.spec;
    let out: Float64Array;
    let z: Float64Array | null = null;
    let win: Int32Array | null = null;
    if (layer.linear) {
      z = layer.linear.apply(v, n, layer.weight!, layer.bias ?? null);
      out = layer.fusedRelu ? mapF64(z, reluF) : z;
      if (!layer.fusedRelu) z = null;
    } else if (l.type === 'relu') out = mapF64(v, reluF);
    else if (l.type === 'max-pool') ({ out, winners: win } = maxPool(v, n, c, h, w, l.size));
    else if (l.type === 'avg-pool') out = avgPool(v, n, c, h, w, l.size);
    else if (l.type === 'global-avg-pool') out = globalAvgPool(v, n, c, h * w);
    else if (l.type === 'batchnorm')
      out = channelAffine(v, n, c, size(layer.inShape.slice(1)), layer.affine!.scale, layer.affine!.shift);
    else if (l.type === 'add') {
      const other = values[layer.addFrom!];
      out = mapF64(v, (a, j) => a + other[j]);
    } else out = v;
    if (scaling?.index === values.length) out = scaleChannels(out, layer.outShape, scaling.scale);
    values.push(out);
    pre.push(z);
    winners.push(win);
  }
  return { n, values, pre, winners };
}

/** Backward through a ReLU with input `x` (reference input `x0` for rescale). */
function reluBackward(
  rule: ReluRule,
  g: Float64Array,
  x: Float64Array,
  x0: Float64Array | undefined,
): Float64Array {
  switch (rule) {
    // The reference network's activations are plain ReLUs, where passing relevance is the gradient.
    case 'gradient':
    case 'pass':
      return mapF64(g, (v, i) => (x[i] > 0 ? v : 0));
    case 'guided':
      return mapF64(g, (v, i) => (x[i] > 0 && v > 0 ? v : 0));
    case 'deconvnet':
      return mapF64(g, reluF);
    case 'rescale':
      return mapF64(g, (v, i) => {
        const dx = x[i] - x0![i];
        if (Math.abs(dx) < 1e-7) return x[i] > 0 ? v : 0;
        return (v * (reluF(x[i]) - reluF(x0![i]))) / dx;
      });
  }
}

/** Whether layer `i` sees the model input up to reshapes only (where input-only rules may sit). */
export function isInputFed(net: Network, i: number): boolean {
  return net.layers.slice(0, i).every((l) => l.spec.type === 'flatten');
}

/**
 * Backward pass from `plan.start` down to the input. Returns the cotangent at every value index
 * up to the start (undefined above it) and, when an input-only rule ran, the input relevance.
 */
export function backwardTrace(
  net: Network,
  trace: Trace,
  plan: BackwardPlan,
): { grads: (Float64Array | undefined)[]; inputRelevance?: Float64Array } {
  const grads: (Float64Array | undefined)[] = new Array(net.layers.length + 1);
  grads[plan.start] = plan.seed;
  // Cotangents that residual additions send back to their second addend, added to that value's
  // own cotangent when the pass reaches it (every `add` sits above the value it reads).
  const skipped: (Float64Array | undefined)[] = new Array(net.layers.length + 1);
  const put = (i: number, g: Float64Array): void => {
    const extra = skipped[i];
    grads[i] = extra ? mapF64(g, (v, j) => v + extra[j]) : g;
  };
  let inputRelevance: Float64Array | undefined;
  const { n, values } = trace;
  const ref = plan.reference;
  for (let i = plan.start - 1; i >= 0; i--) {
    const layer = net.layers[i];
    const l = layer.spec;
    const x = values[i];
    let g = grads[i + 1]!;
    if (layer.linear) {
      if (layer.fusedRelu) g = reluBackward(plan.relu, g, trace.pre[i]!, ref?.pre[i] ?? undefined);
      const rule = plan.linear[l.name] ?? { kind: 'gradient' };
      let weight = layer.weight!;
      let bias = layer.bias ?? null;
      const next = net.layers[i + 1];
      if (plan.foldBatchNorm && !layer.fusedRelu && next?.affine && i + 2 <= plan.start) {
        // Canonizer: the rule sees BN∘linear as one linear map, seeded at the BN's output.
        const { scale, shift } = next.affine;
        const per = weight.length / scale.length;
        const b0 = bias;
        weight = mapF64(weight, (v, j) => v * scale[Math.floor(j / per)]);
        bias = mapF64(shift, (v, c) => v + (b0 ? b0[c] * scale[c] : 0));
        g = grads[i + 2]!;
      }
      const result = applyLinearRule(rule, {
        op: layer.linear,
        weight,
        bias,
        x,
        g,
        n,
        low: plan.low,
        high: plan.high,
        pattern: plan.patterns?.[l.name],
        ignoreBias: plan.ignoreBias,
      });
      put(i, result.gradient);
      if (result.relevance) inputRelevance = result.relevance;
      continue;
    }
    const [c, h, w] = layer.inShape;
    if (l.type === 'relu') put(i, reluBackward(plan.relu, g, x, ref?.values[i]));
    else if (l.type === 'max-pool') {
      const gi = new Float64Array(x.length);
      if (plan.maxPool === 'winner') {
        const win = trace.winners[i]!;
        for (let o = 0; o < win.length; o++) gi[win[o]] += g[o];
      } else {
        // Relevance y·g of each window shared in proportion to the window's inputs.
        const y = values[i + 1];
        const sums = new Float64Array(y.length);
        forEachPoolWindow(n, c, h, w, l.size, (o, j) => {
          sums[o] += x[j];
        });
        forEachPoolWindow(n, c, h, w, l.size, (o, j) => {
          if (sums[o] !== 0) gi[j] += (y[o] * g[o]) / sums[o];
        });
      }
      put(i, gi);
    } else if (l.type === 'avg-pool') {
      const gi = new Float64Array(x.length);
      const area = l.size * l.size;
      forEachPoolWindow(n, c, h, w, l.size, (o, j) => {
        gi[j] += g[o] / area;
      });
      put(i, gi);
    } else if (l.type === 'global-avg-pool') {
      const plane = h * w;
      put(
        i,
        mapF64(x, (_, j) => g[Math.floor(j / plane)] / plane),
      );
    } else if (l.type === 'batchnorm') {
      put(i, channelAffine(g, n, c, size(layer.inShape.slice(1)), layer.affine!.scale, null));
    } else if (l.type === 'add') {
      // Both addends receive the cotangent: relevance splits in proportion to them.
      const from = layer.addFrom!;
      const before = skipped[from];
      skipped[from] = before ? mapF64(before, (v, j) => v + g[j]) : g;
      put(i, g);
    } else {
      put(i, g);
    }
  }
  const atInput = skipped[0];
  if (inputRelevance && atInput) {
    // An input-only rule reported its own share; what an addition sent to the input adds x ⊙ g.
    const x = values[0];
    const own = inputRelevance;
    inputRelevance = mapF64(own, (v, j) => v + x[j] * atInput[j]);
  }
  return { grads, inputRelevance };
}
