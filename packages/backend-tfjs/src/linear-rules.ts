import * as tf from '@tensorflow/tfjs';
import {
  inputOnlyRuleKinds,
  type LinearRule,
  linearRuleKinds,
  sameShape,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import { denseFlattenedFrom } from './contract.js';
import { toTf } from './convert.js';
import type { Program, Step } from './graph.js';
import { linearGeometry, linearWeights } from './interpreter.js';
import { type LinearGeometry, type LinearSaved, linearForward, linearVjp } from './ops/linear.js';

/** Default stabiliser of the gamma rule when none is given (matches core's reference). */
const gammaEpsilon = 1e-6;

/** A compiled linear rule plus the tensors it owns. @internal */
export interface CompiledLinear {
  readonly backward: (saved: LinearSaved, dy: tf.Tensor) => tf.Tensor;
  readonly owned: tf.Tensor[];
}

/**
 * Where input-only rules (`z-box`, `w-square`, `flat`) leave the part of their relevance that
 * `x ⊙ gradient` cannot carry (where x = 0). Kept tensors; the caller disposes them.
 * @internal
 */
export type RelevanceStash = tf.Tensor[];

const pos = (t: tf.Tensor): tf.Tensor => tf.relu(t);
const neg = (t: tf.Tensor): tf.Tensor => tf.neg(tf.relu(tf.neg(t)));

/** `R ⊘ (d + ε·sign(d))`, sign(0) = +1, and 0 where that is 0. */
function stabilised(r: tf.Tensor, d: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.divNoNan(r, tf.add(d, tf.where(tf.greaterEqual(d, 0), tf.scalar(epsilon), tf.scalar(-epsilon))));
}

type Forward = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null) => tf.Tensor;
type Vjp = (s: tf.Tensor, w: tf.Tensor, x: tf.Tensor) => tf.Tensor;

/**
 * α·(positive contributions) − β·(negative contributions), zennit's `AlphaBeta` (`ZPlus` for
 * α = 1, β = 0, whose negative side is skipped): x ≥ 0 contributes positively through W⁺, x < 0
 * through W⁻, and the other way round for the negative side; biases on their sign's side.
 */
function alphaBeta(
  alpha: number,
  beta: number,
  p: LinearSaved,
  r: tf.Tensor,
  fwd: Forward,
  vjp: Vjp,
  nonNegative: boolean,
): tf.Tensor {
  const [wp, wn] = [pos(p.w), neg(p.w)];
  if (nonNegative) {
    // x ≥ 0: the x < 0 terms are zero, so only W⁺ carries positive and W⁻ negative contributions.
    const onPos = tf.mul(alpha, vjp(tf.divNoNan(r, fwd(p.x, wp, p.b ? pos(p.b) : null)), wp, p.x));
    if (beta === 0) return onPos;
    return tf.sub(onPos, tf.mul(beta, vjp(tf.divNoNan(r, fwd(p.x, wn, p.b ? neg(p.b) : null)), wn, p.x)));
  }
  const [xp, xn] = [pos(p.x), neg(p.x)];
  const sPos = tf.divNoNan(r, tf.add(fwd(xp, wp, p.b ? pos(p.b) : null), fwd(xn, wn, null)));
  let onPos = tf.mul(alpha, vjp(sPos, wp, p.x));
  let onNeg = tf.mul(alpha, vjp(sPos, wn, p.x));
  if (beta !== 0) {
    const sNeg = tf.divNoNan(r, tf.add(fwd(xp, wn, p.b ? neg(p.b) : null), fwd(xn, wp, null)));
    onPos = tf.sub(onPos, tf.mul(beta, vjp(sNeg, wn, p.x)));
    onNeg = tf.sub(onNeg, tf.mul(beta, vjp(sNeg, wp, p.x)));
  }
  return tf.where(tf.greaterEqual(p.x, 0), onPos, onNeg);
}

/**
 * The generalised γ rule (core's `rules.ts`; zennit's `Gamma` since 0.5): outputs z > 0 share
 * their relevance with the positive contributions boosted (`W↑ = W + γW⁺` on x ≥ 0,
 * `W↓ = W + γW⁻` on x < 0, bias `b + γb⁺`), outputs z < 0 with the negative ones boosted (the
 * weights swapped, bias `b + γb⁻`), so no denominator crosses 0.
 */
function generalisedGamma(
  gamma: number,
  epsilon: number,
  p: LinearSaved,
  r: tf.Tensor,
  fwd: Forward,
  vjp: Vjp,
  nonNegative: boolean,
): tf.Tensor {
  const up = tf.add(p.w, tf.mul(gamma, pos(p.w)));
  const down = tf.add(p.w, tf.mul(gamma, neg(p.w)));
  const bUp = p.b ? tf.add(p.b, tf.mul(gamma, pos(p.b))) : null;
  const bDown = p.b ? tf.add(p.b, tf.mul(gamma, neg(p.b))) : null;
  const zero = tf.zerosLike(r);
  const rUp = tf.where(tf.greater(p.z, 0), r, zero);
  const rDown = tf.where(tf.less(p.z, 0), r, zero);
  if (nonNegative) {
    // x ≥ 0: the x < 0 terms are zero.
    const sUp = stabilised(rUp, fwd(p.x, up, bUp), epsilon);
    const sDown = stabilised(rDown, fwd(p.x, down, bDown), epsilon);
    return tf.add(vjp(sUp, up, p.x), vjp(sDown, down, p.x));
  }
  const [xp, xn] = [pos(p.x), neg(p.x)];
  const sUp = stabilised(rUp, tf.add(fwd(xp, up, bUp), fwd(xn, down, null)), epsilon);
  const sDown = stabilised(rDown, tf.add(fwd(xp, down, bDown), fwd(xn, up, null)), epsilon);
  const onPos = tf.add(vjp(sUp, up, p.x), vjp(sDown, down, p.x));
  const onNeg = tf.add(vjp(sUp, down, p.x), vjp(sDown, up, p.x));
  return tf.where(tf.greaterEqual(p.x, 0), onPos, onNeg);
}

/**
 * Canonical weight layout (`O×I×kH×kW`, depthwise `C·M×1×kH×kW`, dense `out×in`) → tfjs layout.
 * `flattened` (`[H, W, C]`) marks a Dense fed by a Flatten: its canonical `in` axis is in
 * (C, H, W) order, tfjs's in (H, W, C) order.
 * @internal
 */
export function fromCanonical(
  kind: LinearGeometry['kind'],
  t: tf.Tensor,
  tfShape: readonly number[],
  flattened: readonly number[] | null = null,
): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'dense') {
      if (!flattened) return tf.transpose(t);
      const [h, w, c] = flattened;
      const out = (t.shape as number[])[0];
      return tf.transpose(t.reshape([out, c, h, w]), [2, 3, 1, 0]).reshape([h * w * c, out]);
    }
    if (kind === 'conv') return tf.transpose(t, [2, 3, 1, 0]);
    const [kh, kw, c, m] = tfShape;
    return tf.transpose(t.reshape([c, m, kh, kw]), [2, 3, 0, 1]);
  });
}

/** tfjs layout → canonical layout (inverse of `fromCanonical`). @internal */
export function toCanonical(
  kind: LinearGeometry['kind'],
  t: tf.Tensor,
  flattened: readonly number[] | null = null,
): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'dense') {
      if (!flattened) return tf.transpose(t);
      const [h, w, c] = flattened;
      const out = (t.shape as number[])[1];
      return tf.transpose(t.reshape([h, w, c, out]), [3, 2, 0, 1]).reshape([out, c * h * w]);
    }
    if (kind === 'conv') return tf.transpose(t, [3, 2, 0, 1]);
    const [kh, kw, c, m] = t.shape;
    return tf.transpose(t, [2, 3, 0, 1]).reshape([c * m, 1, kh, kw]);
  });
}

function canonicalShape(kind: LinearGeometry['kind'], s: readonly number[]): number[] {
  if (kind === 'dense') return [s[1], s[0]];
  if (kind === 'conv') return [s[3], s[2], s[0], s[1]];
  return [s[2] * s[3], 1, s[0], s[1]];
}

function bound(v: number | Tensor, what: string, step: Step, inputShape: readonly number[]): tf.Tensor {
  if (typeof v === 'number') return tf.scalar(v);
  const item = inputShape.slice(1);
  if (!sameShape(v.shape, inputShape) && !sameShape(v.shape, [1, ...item])) {
    throw new UnsupportedError(
      'unsupported-rule',
      `z-box ${what} on ${step.name} has shape [${v.shape.join(', ')}]; expected a number, the input's shape [${inputShape.join(', ')}] or [1, ${item.join(', ')}] (input layout)`,
    );
  }
  return toTf(v);
}

/** Whether a step reads the model input, possibly through Flatten/Reshape layers. @internal */
export function fedByInput(program: Program, step: Step): boolean {
  let slot = step.inputs[0];
  for (;;) {
    if (slot === program.inputSlot) return true;
    const p = program.producer.get(slot);
    if (!p || (p.className !== 'Flatten' && p.className !== 'Reshape') || p.inputs.length !== 1) return false;
    slot = p.inputs[0];
  }
}

/** Activations whose output is ≥ 0 (tfjs activation class names; `ReLU` layers give `relu<max>`). */
const nonNegativeActivations = /^(relu\d*(\.\d+)?|relu6|sigmoid|softmax|hardSigmoid)$/;
/** Layers that keep their input's sign (pooling, reshapes, dropout). */
const signKeeping = new Set([
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Permute',
  'Dropout',
  'SpatialDropout1D',
  'Concatenate',
]);

/**
 * Whether a step's input is provably ≥ 0 from the program (a ReLU-like activation upstream,
 * through pooling and reshapes). The sign-aware rules then skip their x < 0 branch, which would
 * only multiply zeros. @internal
 */
export function readsNonNegative(program: Program, step: Step): boolean {
  const slotNonNegative = (slot: number, depth: number): boolean => {
    const p = program.producer.get(slot);
    if (!p || depth > 32) return false;
    if (p.info.activation && nonNegativeActivations.test(p.info.activation)) return true;
    if (!signKeeping.has(p.className) || p.info.activation) return false;
    return p.inputs.length > 0 && p.inputs.every((s) => slotNonNegative(s, depth + 1));
  };
  return step.inputs.length === 1 && slotNonNegative(step.inputs[0], 0);
}

/** Check a rule set against the program before any compute. @internal */
export function checkLinearRules(
  program: Program,
  rules: Readonly<Record<string, LinearRule>>,
  known: (name: string) => Step,
): void {
  for (const [name, rule] of Object.entries(rules)) {
    const step = known(name);
    if (!rule || !linearRuleKinds.includes(rule.kind)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `rule ${JSON.stringify(rule?.kind)} on ${name} is not a linear rule; allowed: ${linearRuleKinds.join(', ')}`,
      );
    }
    if (!linearGeometry(step)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `linear rule ${rule.kind} on ${name} (${step.className}): linear rules apply to Conv2D, DepthwiseConv2D and Dense layers (channels-last, padding same/valid)`,
      );
    }
    if (inputOnlyRuleKinds.has(rule.kind) && !fedByInput(program, step)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `rule ${rule.kind} on ${name}: its relevance is not x ⊙ gradient, so it is only allowed on layers fed directly by the model input ${program.inputName} (through Flatten/Reshape at most)`,
      );
    }
  }
}

/** Compile one linear rule into a backward function for `step`. @internal */
export function compileLinearRule(
  program: Program,
  step: Step,
  rule: LinearRule,
  inputShape: readonly number[],
  stash: RelevanceStash,
  ignoreBias = false,
): CompiledLinear {
  const g = linearGeometry(step)!;
  const owned: tf.Tensor[] = [];
  const fwd: Forward = (x, w, b) => linearForward(g, x, w, b);
  const vjp: Vjp = (s, w, x) => linearVjp(g, s, w, x.shape);
  // Sign-aware rules skip their x < 0 branch on inputs known to be ≥ 0 (it is exactly zero there).
  const nonNegative = readsNonNegative(program, step);
  const outRelevance = (p: LinearSaved, dy: tf.Tensor): tf.Tensor => tf.mul(p.z, dy);
  // What the bias-aware rules see: under ignoreBias the layer as if its bias were 0 (they still
  // share the relevance of the actual output, `outRelevance(p, dy)`).
  const seen = (p: LinearSaved): LinearSaved =>
    ignoreBias && p.b ? { x: p.x, w: p.w, b: null, z: tf.sub(p.z, p.b) } : p;
  /** Input-only rules: the gradient `R ⊘ x`, and the rest of R (where x = 0) into the stash. */
  const inputOnly = (x: tf.Tensor, relevance: tf.Tensor): tf.Tensor => {
    const gradient = tf.divNoNan(relevance, x);
    stash.push(tf.keep(tf.reshape(tf.sub(relevance, tf.mul(x, gradient)), [...inputShape])));
    return gradient;
  };
  switch (rule.kind) {
    case 'gradient':
      return { owned, backward: (p, dy) => vjp(dy, p.w, p.x) };
    case 'pattern': {
      const kernel = linearWeights(step).kernel;
      const expected = canonicalShape(g.kind, kernel.shape as number[]);
      if (!sameShape(rule.weight.shape, expected)) {
        throw new UnsupportedError(
          'unsupported-rule',
          `pattern weight for ${step.name} has shape [${rule.weight.shape.join(', ')}]; expected [${expected.join(', ')}] (canonical layout)`,
        );
      }
      const pattern = tf.tidy(() =>
        fromCanonical(g.kind, toTf(rule.weight), kernel.shape as number[], denseFlattenedFrom(program, step)),
      );
      owned.push(pattern);
      return { owned, backward: (p, dy) => vjp(dy, pattern, p.x) };
    }
    case 'epsilon':
      return {
        owned,
        backward: (p, dy) => vjp(stabilised(outRelevance(p, dy), seen(p).z, rule.epsilon), p.w, p.x),
      };
    case 'gamma':
      return {
        owned,
        backward: (p, dy) =>
          generalisedGamma(
            rule.gamma,
            rule.epsilon ?? gammaEpsilon,
            seen(p),
            outRelevance(p, dy),
            fwd,
            vjp,
            nonNegative,
          ),
      };
    case 'gamma-classic':
      return {
        owned,
        backward: (p, dy) => {
          const w2 = tf.add(p.w, tf.mul(rule.gamma, pos(p.w)));
          const b = seen(p).b;
          const b2 = b ? tf.add(b, tf.mul(rule.gamma, pos(b))) : null;
          return vjp(
            stabilised(outRelevance(p, dy), fwd(p.x, w2, b2), rule.epsilon ?? gammaEpsilon),
            w2,
            p.x,
          );
        },
      };
    case 'z-plus':
      return {
        owned,
        backward: (p, dy) => alphaBeta(1, 0, seen(p), outRelevance(p, dy), fwd, vjp, nonNegative),
      };
    case 'alpha-beta':
      return {
        owned,
        backward: (p, dy) =>
          alphaBeta(rule.alpha, rule.beta, seen(p), outRelevance(p, dy), fwd, vjp, nonNegative),
      };
    case 'z-box': {
      const low = bound(rule.low, 'low', step, inputShape);
      const high = bound(rule.high, 'high', step, inputShape);
      owned.push(low, high);
      return {
        owned,
        backward: (p, dy) => {
          // Bounds are in the input's layout; a Flatten between input and layer is a reshape of it.
          const lo = tf.reshape(tf.broadcastTo(low, [...inputShape]), p.x.shape);
          const hi = tf.reshape(tf.broadcastTo(high, [...inputShape]), p.x.shape);
          const [wp, wn] = [pos(p.w), neg(p.w)];
          const den = tf.sub(tf.sub(fwd(p.x, p.w, null), fwd(lo, wp, null)), fwd(hi, wn, null));
          const s = tf.divNoNan(outRelevance(p, dy), den);
          const relevance = tf.sub(
            tf.sub(tf.mul(p.x, vjp(s, p.w, p.x)), tf.mul(lo, vjp(s, wp, p.x))),
            tf.mul(hi, vjp(s, wn, p.x)),
          );
          return inputOnly(p.x, relevance);
        },
      };
    }
    case 'w-square':
    case 'flat':
      return {
        owned,
        backward: (p, dy) => {
          const w2 = rule.kind === 'flat' ? tf.onesLike(p.w) : tf.square(p.w);
          const den = fwd(tf.onesLike(p.x), w2, null);
          return inputOnly(p.x, vjp(tf.divNoNan(outRelevance(p, dy), den), w2, p.x));
        },
      };
  }
}
