/**
 * The linear-layer backward rules of `rules.ts`, written once against an abstract linear map so
 * that dense and convolution layers share them. Float64 throughout.
 * @internal
 */
import type { LinearRule } from '../rules.js';
import { mapF64 } from './ops.js';

/** A linear layer `z = W x + b` seen only through its forward and its transpose. */
export interface LinearOp {
  /** `W x + b` for a batch of `n` items (`bias` null means no bias). */
  apply(x: Float64Array, n: number, weight: Float64Array, bias: Float64Array | null): Float64Array;
  /** `Wᵀ g` for a batch of `n` items: the input-gradient of `apply`. */
  transpose(g: Float64Array, n: number, weight: Float64Array): Float64Array;
}

/** Everything a rule needs about one linear layer in one backward pass. */
export interface LinearRuleInput {
  readonly op: LinearOp;
  readonly weight: Float64Array;
  readonly bias: Float64Array | null;
  /** The layer's input, `n × inSize`. */
  readonly x: Float64Array;
  /** Cotangent at the layer's pre-activation output `z`, `n × outSize`. */
  readonly g: Float64Array;
  readonly n: number;
  /** Box bounds shaped like `x`, for `z-box`. */
  readonly low?: Float64Array;
  readonly high?: Float64Array;
  /** Pattern weights in the layout of `weight`, for `pattern`. */
  readonly pattern?: Float64Array;
  /** Rules see the bias as zero (the relevance they share is still that of the actual output). */
  readonly ignoreBias?: boolean;
}

/** What a rule returns: the cotangent at the input and, for input-only rules, the relevance. */
export interface LinearRuleOutput {
  readonly gradient: Float64Array;
  /** Set by `z-box`, `w-square` and `flat`, whose relevance is not `x ⊙ gradient`. */
  readonly relevance?: Float64Array;
}

/** Default stabiliser of the gamma rule when `epsilon` is not given. */
export const defaultGammaEpsilon = 1e-6;

const pos = (a: Float64Array): Float64Array => mapF64(a, (v) => Math.max(v, 0));
const neg = (a: Float64Array): Float64Array => mapF64(a, (v) => Math.min(v, 0));
const posOrNull = (a: Float64Array | null): Float64Array | null => (a ? pos(a) : null);
const negOrNull = (a: Float64Array | null): Float64Array | null => (a ? neg(a) : null);

function add(a: Float64Array, b: Float64Array): Float64Array {
  return mapF64(a, (v, i) => v + b[i]);
}

/** `num / den`, 0 where the denominator is exactly 0 (no relevance can flow through a zero output). */
function safeRatio(num: Float64Array, den: Float64Array): Float64Array {
  return mapF64(num, (v, i) => (den[i] === 0 ? 0 : v / den[i]));
}

/** `R ⊘ (d + ε·sign(d))` with sign(0) = +1, where `R = z ⊙ g` is the relevance at the output. */
function stabilisedRatio(relevance: Float64Array, den: Float64Array, epsilon: number): Float64Array {
  return mapF64(relevance, (r, i) => {
    const d = den[i] + epsilon * (den[i] >= 0 ? 1 : -1);
    return d === 0 ? 0 : r / d;
  });
}

/** Relevance at the input divided by the input, 0 where the input is 0. */
function gradientFromRelevance(relevance: Float64Array, x: Float64Array): Float64Array {
  return mapF64(relevance, (r, i) => (x[i] === 0 ? 0 : r / x[i]));
}

/**
 * Apply one linear rule. Relevance at the output is `R = z ⊙ g` with `z` the layer's own output
 * (bias included); every rule returns the cotangent `g_in` with `x ⊙ g_in` its input relevance.
 */
export function applyLinearRule(rule: LinearRule, input: LinearRuleInput): LinearRuleOutput {
  const { op, weight, x, g, n } = input;
  const outRelevance = (): Float64Array => {
    const zz = op.apply(x, n, weight, input.bias);
    return mapF64(zz, (v, i) => v * g[i]);
  };
  // From here on the rule sees the bias it is meant to (none under ignoreBias).
  const r = input.ignoreBias ? { ...input, bias: null } : input;
  const bias = r.bias;
  const z = (): Float64Array => op.apply(x, n, weight, bias);
  switch (rule.kind) {
    case 'gradient':
      return { gradient: op.transpose(g, n, weight) };
    case 'pattern':
      return { gradient: op.transpose(g, n, r.pattern!) };
    case 'epsilon': {
      const s = stabilisedRatio(outRelevance(), z(), rule.epsilon);
      return { gradient: op.transpose(s, n, weight) };
    }
    case 'gamma':
      return generalisedGamma(rule.gamma, rule.epsilon ?? defaultGammaEpsilon, r, outRelevance());
    case 'gamma-classic': {
      const w2 = mapF64(weight, (v) => v + rule.gamma * Math.max(v, 0));
      const b2 = bias ? mapF64(bias, (v) => v + rule.gamma * Math.max(v, 0)) : null;
      const s = stabilisedRatio(outRelevance(), op.apply(x, n, w2, b2), rule.epsilon ?? defaultGammaEpsilon);
      return { gradient: op.transpose(s, n, w2) };
    }
    case 'z-plus':
      return alphaBeta(1, 0, r, outRelevance());
    case 'alpha-beta':
      return alphaBeta(rule.alpha, rule.beta, r, outRelevance());
    case 'z-box': {
      const low = r.low!;
      const high = r.high!;
      const wp = pos(weight);
      const wn = neg(weight);
      // Bias-free denominator Σ_i (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) ≥ 0 for l ≤ x ≤ h: conservative.
      const zx = op.apply(x, n, weight, null);
      const zl = op.apply(low, n, wp, null);
      const zh = op.apply(high, n, wn, null);
      const s = safeRatio(
        outRelevance(),
        mapF64(zx, (v, i) => v - zl[i] - zh[i]),
      );
      const gx = op.transpose(s, n, weight);
      const gl = op.transpose(s, n, wp);
      const gh = op.transpose(s, n, wn);
      const relevance = mapF64(x, (v, i) => v * gx[i] - low[i] * gl[i] - high[i] * gh[i]);
      return { gradient: gradientFromRelevance(relevance, x), relevance };
    }
    case 'w-square':
    case 'flat': {
      const w2 = rule.kind === 'flat' ? mapF64(weight, () => 1) : mapF64(weight, (v) => v * v);
      // Σ_i over the receptive field (padding excluded) of w_ij², or of 1 for `flat`; biases ignored.
      const den = op.apply(new Float64Array(x.length).fill(1), n, w2, null);
      const relevance = op.transpose(safeRatio(outRelevance(), den), n, w2);
      return { gradient: gradientFromRelevance(relevance, x), relevance };
    }
  }
}

/**
 * α·(positive contributions) − β·(negative contributions), biases counted on their sign's side.
 * For x ≥ 0 positive contributions come through W⁺, for x < 0 through W⁻ (and the reverse for
 * negative ones), so the cotangent picks the branch by the sign of x. With β = 0 (z⁺) the
 * negative side is not computed.
 */
function alphaBeta(
  alpha: number,
  beta: number,
  r: LinearRuleInput,
  relevance: Float64Array,
): LinearRuleOutput {
  const { op, weight, bias, x, n } = r;
  const xp = pos(x);
  const xn = neg(x);
  const wp = pos(weight);
  const wn = neg(weight);
  const zPos = add(op.apply(xp, n, wp, posOrNull(bias)), op.apply(xn, n, wn, null));
  const sPos = safeRatio(relevance, zPos);
  const posOfPosX = op.transpose(sPos, n, wp);
  const posOfNegX = op.transpose(sPos, n, wn);
  if (beta === 0) {
    return { gradient: mapF64(x, (v, i) => alpha * (v >= 0 ? posOfPosX[i] : posOfNegX[i])) };
  }
  const zNeg = add(op.apply(xp, n, wn, negOrNull(bias)), op.apply(xn, n, wp, null));
  const sNeg = safeRatio(relevance, zNeg);
  const negOfPosX = op.transpose(sNeg, n, wn);
  const negOfNegX = op.transpose(sNeg, n, wp);
  const gradient = mapF64(x, (v, i) =>
    v >= 0 ? alpha * posOfPosX[i] - beta * negOfPosX[i] : alpha * posOfNegX[i] - beta * negOfNegX[i],
  );
  return { gradient };
}

/**
 * The generalised γ rule (zennit's `Gamma` since 0.5): outputs z > 0 share their relevance over
 * the contributions with positive ones boosted (`W↑ = W + γW⁺` on x ≥ 0, `W↓ = W + γW⁻` on x < 0,
 * bias `b + γb⁺`), outputs z < 0 with negative ones boosted (the weights swapped, bias
 * `b + γb⁻`). Each denominator has the sign of its output and at least its magnitude.
 */
function generalisedGamma(
  gamma: number,
  epsilon: number,
  r: LinearRuleInput,
  relevance: Float64Array,
): LinearRuleOutput {
  const { op, weight, bias, x, n } = r;
  const xp = pos(x);
  const xn = neg(x);
  const up = mapF64(weight, (v) => v + gamma * Math.max(v, 0));
  const down = mapF64(weight, (v) => v + gamma * Math.min(v, 0));
  const bUp = bias ? mapF64(bias, (v) => v + gamma * Math.max(v, 0)) : null;
  const bDown = bias ? mapF64(bias, (v) => v + gamma * Math.min(v, 0)) : null;
  const z = op.apply(x, n, weight, bias);
  const zUp = add(op.apply(xp, n, up, bUp), op.apply(xn, n, down, null));
  const zDown = add(op.apply(xp, n, down, bDown), op.apply(xn, n, up, null));
  const sUp = stabilisedRatio(
    mapF64(relevance, (v, i) => (z[i] > 0 ? v : 0)),
    zUp,
    epsilon,
  );
  const sDown = stabilisedRatio(
    mapF64(relevance, (v, i) => (z[i] < 0 ? v : 0)),
    zDown,
    epsilon,
  );
  const upOfPosX = op.transpose(sUp, n, up);
  const upOfNegX = op.transpose(sUp, n, down);
  const downOfPosX = op.transpose(sDown, n, down);
  const downOfNegX = op.transpose(sDown, n, up);
  const gradient = mapF64(x, (v, i) => (v >= 0 ? upOfPosX[i] + downOfPosX[i] : upOfNegX[i] + downOfNegX[i]));
  return { gradient };
}
