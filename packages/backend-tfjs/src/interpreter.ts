import * as tf from '@tensorflow/tfjs';
import type { ReluRule } from '@xlens/core';
import type { KLayer, Program, Step } from './graph.js';
import {
  type CustomGradientFunc,
  type LinearGeometry,
  type LinearSaved,
  linearForward,
  linearWithBackward,
} from './ops/linear.js';
import { maxPoolFirstWinner } from './ops/pool.js';

/**
 * Runs a flattened LayersModel on concrete tensors, layer by layer, so that any layer's backward
 * can be swapped for a rule's. Conv2D, DepthwiseConv2D and Dense are computed here (their fused
 * activation separately, so a ReLU rule reaches it); every other layer runs through its own
 * `apply` in inference mode.
 * @internal
 */
export interface RunOptions {
  /** Wrap ops in custom gradients (only needed when a gradient tape is recording). */
  readonly differentiable: boolean;
  /** A softmax step (the model's head) to pass through, so the outputs are its logits. */
  readonly strip?: Step | null;
  readonly relu?: ReluRule;
  /** Pre-activations of every ReLU site in the reference pass, for `rescale`. */
  readonly reluReference?: ReadonlyMap<string, tf.Tensor>;
  /** Filled with every ReLU site's pre-activation (kept tensors; the caller disposes them). */
  readonly recordRelu?: Map<string, tf.Tensor>;
  /** Backward of a linear layer by step name. */
  readonly linear?: ReadonlyMap<string, (saved: LinearSaved, dy: tf.Tensor) => tf.Tensor>;
  readonly maxPool?: 'winner' | 'proportional';
  /** Fold BatchNorm into the linear layer before it (the BN step then passes through). */
  readonly foldBatchNorm?: boolean;
  /** Called with every step's output (and the input, as `null`); may return a replacement. */
  readonly onOutput?: (step: Step | null, value: tf.Tensor) => tf.Tensor;
}

interface LinearLayer extends KLayer {
  readonly kernel?: tf.LayerVariable;
  readonly depthwiseKernel?: tf.LayerVariable;
  readonly bias?: tf.LayerVariable | null;
  readonly strides?: number | number[];
  readonly padding?: string;
  readonly dilationRate?: number | number[];
}

interface BatchNormLayer extends KLayer {
  readonly gamma?: tf.LayerVariable | null;
  readonly beta?: tf.LayerVariable | null;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
  readonly epsilon: number;
  readonly axis: number;
}

interface PoolLayer extends KLayer {
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: 'same' | 'valid';
}

const pair = (v: number | number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];

/** Geometry of a layer the interpreter runs itself, or null when it falls back to `apply`. @internal */
export function linearGeometry(step: Step): LinearGeometry | null {
  const l = step.layer as LinearLayer;
  if (step.alias) return null;
  if (step.className === 'Dense')
    return { kind: 'dense', strides: [1, 1], dilations: [1, 1], padding: 'valid' };
  if (step.className !== 'Conv2D' && step.className !== 'DepthwiseConv2D') return null;
  if (l.dataFormat === 'channelsFirst' || (l.padding !== 'same' && l.padding !== 'valid')) return null;
  return {
    kind: step.className === 'Conv2D' ? 'conv' : 'depthwise',
    strides: pair(l.strides, 1),
    dilations: pair(l.dilationRate, 1),
    padding: l.padding,
  };
}

/** The kernel and bias variables of a linear step. @internal */
export function linearWeights(step: Step): { kernel: tf.LayerVariable; bias: tf.LayerVariable | null } {
  const l = step.layer as LinearLayer;
  const kernel = step.className === 'DepthwiseConv2D' ? l.depthwiseKernel! : l.kernel!;
  return { kernel, bias: l.useBias && l.bias ? l.bias : null };
}

/** The BatchNorm step a linear step folds into under `foldBatchNorm`, if any. @internal */
export function foldTarget(program: Program, step: Step): Step | null {
  if (!linearGeometry(step) || (step.layer.activation && step.layer.activation.getClassName() !== 'linear'))
    return null;
  if (step.outputs[0] === program.outputSlot) return null;
  const next = program.consumers.get(step.outputs[0]) ?? [];
  if (next.length !== 1 || next[0].className !== 'BatchNormalization') return null;
  const bn = next[0].layer as BatchNormLayer;
  const rank = step.itemShape.length + 1;
  return bn.axis === -1 || bn.axis === rank - 1 ? next[0] : null;
}

/** Whether a BatchNorm step normalises the last (channels) axis. @internal */
export function isChannelsLastBn(step: Step): boolean {
  const axis = (step.layer as BatchNormLayer).axis;
  return axis === -1 || axis === step.itemShape.length;
}

/** Inference BatchNorm as `x·scale + shift` per channel. @internal */
export function batchNormAffine(step: Step): { scale: tf.Tensor; shift: tf.Tensor } {
  return tf.tidy(() => {
    const bn = step.layer as BatchNormLayer;
    const inv = tf.rsqrt(bn.movingVariance.read().add(bn.epsilon));
    const scale = bn.gamma ? inv.mul(bn.gamma.read()) : inv;
    const shift0 = tf.neg(bn.movingMean.read().mul(scale));
    return { scale, shift: bn.beta ? shift0.add(bn.beta.read()) : shift0 };
  });
}

/** `W·γ/√(σ²+ε)` and `(b−μ)·γ/√(σ²+ε)+β` for a linear step followed by `bnStep`. @internal */
export function foldedWeights(
  step: Step,
  bnStep: Step,
  kind: LinearGeometry['kind'],
): { w: tf.Tensor; b: tf.Tensor } {
  return tf.tidy(() => {
    const bn = bnStep.layer as BatchNormLayer;
    const { kernel, bias } = linearWeights(step);
    const w = kernel.read();
    const scale0 = tf.rsqrt(bn.movingVariance.read().add(bn.epsilon));
    const scale = bn.gamma ? scale0.mul(bn.gamma.read()) : scale0;
    const b0 = bias ? bias.read() : tf.zerosLike(bn.movingMean.read());
    let b = b0.sub(bn.movingMean.read()).mul(scale);
    if (bn.beta) b = b.add(bn.beta.read());
    // Output channels are the last kernel axis, except depthwise: channel c·M + m ↔ kernel [.., c, m].
    const ws =
      kind === 'depthwise'
        ? w.mul(scale.reshape([(w.shape as number[])[2], (w.shape as number[])[3]]))
        : w.mul(scale);
    return { w: ws, b };
  });
}

function reluValue(x: tf.Tensor, max: number | null): tf.Tensor {
  return max === null ? tf.relu(x) : tf.clipByValue(x, 0, max);
}

/** ReLU (or ReLU6's clipped form) whose backward follows `rule`. */
function reluWithRule(
  x: tf.Tensor,
  max: number | null,
  rule: ReluRule,
  reference: tf.Tensor | undefined,
): tf.Tensor {
  const op = tf.customGrad(((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xin]);
    return {
      value: reluValue(xin, max),
      gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
        const open = max === null ? tf.greater(xs, 0) : tf.logicalAnd(tf.greater(xs, 0), tf.less(xs, max));
        if (rule === 'deconvnet') return tf.relu(dy);
        if (rule === 'guided') return tf.where(open, tf.relu(dy), tf.zerosLike(dy));
        if (rule === 'pass') {
          // Relevance y·dy reaches the input unchanged: dx = dy·y/x where x > 0 (ReLU6's saturated units too).
          const positive = tf.greater(xs, 0);
          const ratio = tf.div(reluValue(xs, max), tf.where(positive, xs, tf.onesLike(xs)));
          return tf.where(positive, tf.mul(dy, ratio), tf.zerosLike(dy));
        }
        if (rule === 'rescale' && reference) {
          const dx = tf.sub(xs, reference);
          const multiplier = tf.divNoNan(tf.sub(reluValue(xs, max), reluValue(reference, max)), dx);
          const gradient = tf.cast(open, 'float32');
          return tf.mul(dy, tf.where(tf.greater(tf.abs(dx), 1e-7), multiplier, gradient));
        }
        return tf.where(open, dy, tf.zerosLike(dy));
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(x);
}

/** Max-pooling whose backward shares relevance over each window in proportion to the inputs. */
function maxPoolProportional(x: tf.Tensor, layer: PoolLayer): tf.Tensor {
  const filterSize = layer.poolSize as [number, number];
  const strides = layer.strides as [number, number];
  const op = tf.customGrad(((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(xin as tf.Tensor4D, filterSize, strides, layer.padding);
    save([xin, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ys]: tf.Tensor[]) => {
        // Average pooling's window sum S = avg·count; its vjp spreads u/count, so u = R/avg gives R/S.
        const avg = tf.avgPool(xs as tf.Tensor4D, filterSize, strides, layer.padding);
        const u = tf.divNoNan(tf.mul(ys, dy), avg);
        return tf
          .engine()
          .runKernel(
            'AvgPoolGrad',
            { dy: u, input: xs },
            { filterSize, strides, pad: layer.padding },
          ) as tf.Tensor;
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(x);
}

/** Whether a step is a softmax (a Softmax layer, or an Activation or linear layer ending in one). @internal */
export function isSoftmaxLayer(step: Step): boolean {
  return step.className === 'Softmax' || step.layer.activation?.getClassName() === 'softmax';
}

/** Layers that pass their input through at inference. */
const inferenceIdentity = new Set([
  'Dropout',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'SpatialDropout1D',
]);

/**
 * The softmax the model's output is computed by: the step producing the output, or the one before
 * layers that are the identity at inference (dropout, a linear activation). Null when there is none.
 * @internal
 */
export function softmaxHead(program: Program): Step | null {
  let step = program.producer.get(program.outputSlot) ?? null;
  const passes = (s: Step) =>
    inferenceIdentity.has(s.className) ||
    (s.className === 'Activation' && s.layer.activation?.getClassName() === 'linear');
  while (step && passes(step) && step.inputs.length === 1)
    step = program.producer.get(step.inputs[0]) ?? null;
  if (!step || !isSoftmaxLayer(step)) return null;
  // A softmax over the last axis of an N×K tensor only (the head of a classifier).
  return step.itemShape.length === 1 ? step : null;
}

/** Run `program` on `x` (NHWC); returns the model output. Call inside a tidy. @internal */
export function runProgram(program: Program, x: tf.Tensor, o: RunOptions): tf.Tensor {
  const slots = new Map<number, tf.Tensor>();
  slots.set(program.inputSlot, o.onOutput ? o.onOutput(null, x) : x);
  const folded = new Map<Step, Step>();
  if (o.foldBatchNorm) {
    for (const s of program.steps) {
      const bn = foldTarget(program, s);
      if (bn) folded.set(s, bn);
    }
  }
  const foldedBn = new Set(folded.values());
  const relu = (site: string, z: tf.Tensor, max: number | null): tf.Tensor => {
    if (o.recordRelu) o.recordRelu.set(site, tf.keep(z.clone()));
    const rule = o.relu ?? 'gradient';
    // On a plain ReLU, passing relevance is the gradient.
    if (!o.differentiable || rule === 'gradient' || (rule === 'pass' && max === null))
      return reluValue(z, max);
    return reluWithRule(z, max, rule, o.reluReference?.get(site));
  };
  const activate = (step: Step, z: tf.Tensor): tf.Tensor => {
    const act = step.layer.activation;
    const name = act?.getClassName() ?? 'linear';
    if (name === 'linear') return z;
    if (name === 'relu') return relu(step.name, z, null);
    if (name === 'relu6') return relu(step.name, z, 6);
    if (name === 'softmax' && step === o.strip) return z;
    return act!.apply(z);
  };
  for (const step of program.steps) {
    const ins = step.inputs.map((i) => slots.get(i)!);
    if (step.alias) {
      if (o.onOutput) slots.set(step.outputs[0], o.onOutput(step, slots.get(step.outputs[0])!));
      continue;
    }
    const geometry = linearGeometry(step);
    const cls = step.className;
    let out: tf.Tensor;
    if (geometry) {
      const bnStep = folded.get(step);
      const { kernel, bias } = linearWeights(step);
      const wb = bnStep
        ? foldedWeights(step, bnStep, geometry.kind)
        : { w: kernel.read(), b: bias ? bias.read() : null };
      const rule = o.linear?.get(step.name);
      let z: tf.Tensor;
      if (!o.differentiable) z = linearForward(geometry, ins[0], wb.w, wb.b);
      else if (rule || geometry.kind !== 'dense') z = linearWithBackward(geometry, ins[0], wb.w, wb.b, rule);
      else z = linearForward(geometry, ins[0], wb.w, wb.b);
      out = activate(step, z);
    } else if (foldedBn.has(step)) {
      out = ins[0];
    } else if (cls === 'BatchNormalization' && o.differentiable && isChannelsLastBn(step)) {
      // Inference BatchNorm as a per-channel affine map: same values, and its gradient is one
      // multiply (tfjs's FusedBatchNorm gradient tiles its statistics, slow on wasm).
      const { scale, shift } = batchNormAffine(step);
      out = tf.add(tf.mul(ins[0], scale), shift);
    } else if (cls === 'ReLU') {
      out = relu(step.name, ins[0], step.layer.maxValue ?? null);
    } else if (cls === 'Activation' && step.layer.activation?.getClassName() === 'relu') {
      out = relu(step.name, ins[0], null);
    } else if (step === o.strip) {
      out = ins[0];
    } else if (cls === 'MaxPooling2D' && o.differentiable && step.layer.dataFormat !== 'channelsFirst') {
      const pool = step.layer as unknown as PoolLayer;
      out =
        o.maxPool === 'proportional'
          ? maxPoolProportional(ins[0], pool)
          : maxPoolFirstWinner(ins[0], {
              size: pair(pool.poolSize, 1),
              strides: pair(pool.strides, 1),
              padding: pool.padding,
            });
    } else {
      const r = step.layer.apply(ins.length === 1 ? ins[0] : ins, { ...step.kwargs, training: false });
      out = Array.isArray(r) ? r[0] : r;
      if (Array.isArray(r)) for (let i = 1; i < r.length; i++) slots.set(step.outputs[i], r[i]);
    }
    slots.set(step.outputs[0], o.onOutput ? o.onOutput(step, out) : out);
  }
  return slots.get(program.outputSlot)!;
}

/**
 * Batch shapes of the named outputs (`program.inputName` for the input) for the input `x`; runs
 * one forward pass only when a shape has free dimensions. Call with known names.
 * @internal
 */
export function outputShapes(
  program: Program,
  x: tf.Tensor,
  names: readonly string[],
  strip: Step | null,
): number[][] {
  const item = (l: string) =>
    l === program.inputName ? program.inputItemShape : program.byName.get(l)!.itemShape;
  const known = names.map((l) => [x.shape[0], ...item(l)]);
  if (known.every((s) => s.every((d) => d >= 0))) return known;
  const shapes = new Map<string, number[]>();
  tf.tidy(() => {
    runProgram(program, x, {
      differentiable: false,
      strip,
      onOutput: (st, v) => {
        shapes.set(st ? st.name : program.inputName, v.shape);
        return v;
      },
    });
  });
  return names.map((l) => shapes.get(l)!);
}
