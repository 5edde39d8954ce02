import type { LinearRule } from '@xlens/core';
import { attrFloat, type GraphInfo } from '../graph/graph-info.js';
import { countOf, tensorFloat32 } from '../proto/tensor-data.js';
import type { Emitter } from './emitter.js';
import type { LinearLayer } from './linear-plan.js';
import { convInputGrad, convTransposeInputGrad, gemmInputGrad, matmulGrads } from './ops-linear.js';

/** Default stabiliser of the gamma rule when `epsilon` is not given (as core's rules state). */
const defaultGammaEpsilon = 1e-6;

/** What a compiled linear rule yields: the cotangent at the layer input and, for input-only rules, the relevance. */
export interface LinearRuleResult {
  readonly gradient: string;
  readonly relevance?: string;
}

/** Extra graph inputs some rules read, already brought to the layer input's layout. */
export interface RuleInputs {
  readonly low?: string;
  readonly high?: string;
}

const pos = (v: Float32Array) => v.map((x) => Math.max(x, 0));
const neg = (v: Float32Array) => v.map((x) => Math.min(x, 0));

/** Ops whose output is ≥ 0 whatever their input. */
const nonNegativeOps = new Set(['Relu', 'Sigmoid', 'Softmax', 'Abs']);
/** Ops whose output is ≥ 0 when all their data inputs are (pooling, layout, selection). */
const signKeepingOps = new Set([
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'Concat',
  'Slice',
]);

/**
 * Whether tensor `t` is provably ≥ 0 from the graph (a ReLU or Clip at 0 upstream, through
 * pooling and layout ops). The sign-aware rules then skip their x < 0 branch, which would only
 * multiply zeros: z⁺ costs one replay and one transpose, as when it ignored the sign.
 */
export function provablyNonNegative(info: GraphInfo, t: string, depth = 0): boolean {
  const node = info.producerOf(t);
  if (!node || depth > 32) return false;
  if (nonNegativeOps.has(node.opType)) return true;
  if (node.opType === 'Clip') {
    // ReLU6 and friends: `min` is an input from opset 11, an attribute before.
    if (!node.input[1]) return attrFloat(node, 'min', Number.NEGATIVE_INFINITY) >= 0;
    const min = info.constant(node.input[1]);
    return min !== undefined && tensorFloat32(min)[0] >= 0;
  }
  if (!signKeepingOps.has(node.opType)) return false;
  // Only the data inputs carry sign (Reshape's shape, Slice's starts… are int64 constants).
  const data = node.opType === 'Concat' ? node.input : node.input.slice(0, 1);
  return data.every((x) => provablyNonNegative(info, x, depth + 1));
}

/** A pattern weight given in the canonical layout (`out×in` for dense) in the node's stored layout. */
function storedLayout(layer: LinearLayer, canonical: Float32Array): Float32Array {
  if (layer.kind !== 'gemm' && layer.kind !== 'matmul') return canonical;
  if (layer.outAxis === 0) return canonical;
  const [rows, cols] = layer.weight.dims;
  const out = new Float32Array(canonical.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = canonical[j * rows + i];
  return out;
}

/**
 * Emit one linear rule of `rules.ts` in graph form, with `g` the cotangent at the layer's output
 * `z`: every rule is built from the layer's forward op replayed with modified weights (`apply`),
 * its ordinary input-gradient op with those weights (`transpose`: ConvTranspose / Gemm / MatMul)
 * and element-wise arithmetic, so it runs inside the same ORT session.
 */
export function emitLinearRule(
  e: Emitter,
  layer: LinearLayer,
  rule: LinearRule,
  g: string,
  inputs: RuleInputs,
  ignoreBias = false,
): LinearRuleResult {
  const { node, weight } = layer;
  const spatial = layer.kind === 'conv' || layer.kind === 'conv-transpose';
  const biasDims = spatial
    ? [weight.dims[layer.outAxis], ...new Array(weight.dims.length - 2).fill(1)]
    : [weight.dims[layer.outAxis]];
  // One initializer per weight array: a rule that replays the layer with W⁺ and transposes it with
  // the same W⁺ stores it once (ONNX Runtime does not merge equal initializers).
  const weightNames = new Map<Float32Array, string>();
  const weightName = (values: Float32Array) => {
    let name = weightNames.get(values);
    if (name === undefined) {
      name = e.tensor('rule_weight', values, weight.dims);
      weightNames.set(values, name);
    }
    return name;
  };
  const apply = (x: string, w: Float32Array, b: Float32Array | undefined): string => {
    const wn = weightName(w);
    const out =
      layer.kind === 'matmul' ? e.op('MatMul', [x, wn]) : e.replay({ ...node, output: [] }, [x, wn])[0];
    return b ? e.add(out, e.tensor('rule_bias', b, biasDims)) : out;
  };
  const transpose = (s: string, w: Float32Array): string => {
    const wn = weightName(w);
    if (layer.kind === 'conv') return convInputGrad(e, node, s, wn);
    if (layer.kind === 'conv-transpose') return convTransposeInputGrad(e, node, s, wn);
    if (layer.kind === 'gemm') return gemmInputGrad(e, node, s, wn);
    return matmulGrads(e, node, s, [true, false], wn)[0]!;
  };
  const x = layer.x;
  const relevance = () => e.mul(layer.z, g);
  const stabilised = (r: string, den: string, eps: number) => {
    const sign = e.where(e.op('GreaterOrEqual', [den, e.f32(0)]), e.f32(eps), e.f32(-eps));
    return e.safeDiv(r, e.add(den, sign));
  };
  const fromRelevance = (rel: string): LinearRuleResult => ({ gradient: e.safeDiv(rel, x), relevance: rel });
  // Sign-aware rules split x into x⁺ and x⁻; on an input known to be ≥ 0, x⁻ = 0 and its terms
  // vanish exactly, so they are not emitted.
  const nonNegativeInput = provablyNonNegative(e.info, x);
  const signParts = (): [string, string] => {
    const xp = e.op('Relu', [x]);
    return [xp, e.sub(x, xp)];
  };
  const w = weight.values;
  // Under ignoreBias the rules see the layer without its bias: in their denominators and in the
  // sign of the output that picks the generalised γ side (the relevance shared is still z ⊙ g).
  const b = ignoreBias ? undefined : layer.bias;
  const zSeen = (): string =>
    ignoreBias && layer.bias ? e.sub(layer.z, e.tensor('rule_bias', layer.bias, biasDims)) : layer.z;
  switch (rule.kind) {
    case 'gradient':
      return { gradient: transpose(g, w) };
    case 'pattern':
      return { gradient: transpose(g, storedLayout(layer, Float32Array.from(rule.weight.data))) };
    case 'epsilon':
      return { gradient: transpose(stabilised(relevance(), zSeen(), rule.epsilon), w) };
    case 'gamma': {
      // Generalised γ: outputs z > 0 boost positive contributions (W↑ = W + γW⁺ on x ≥ 0,
      // W↓ = W + γW⁻ on x < 0, bias b + γb⁺), outputs z < 0 negative ones (swapped, b + γb⁻).
      const eps = rule.epsilon ?? defaultGammaEpsilon;
      const up = w.map((v) => v + rule.gamma * Math.max(v, 0));
      const down = w.map((v) => v + rule.gamma * Math.min(v, 0));
      const bUp = b?.map((v) => v + rule.gamma * Math.max(v, 0));
      const bDown = b?.map((v) => v + rule.gamma * Math.min(v, 0));
      const r = relevance();
      const zero = e.f32(0);
      const z = zSeen();
      const masked = (op: 'Greater' | 'Less') => e.where(e.op(op, [z, zero]), r, zero);
      if (nonNegativeInput) {
        const sUp = stabilised(masked('Greater'), apply(x, up, bUp), eps);
        const sDown = stabilised(masked('Less'), apply(x, down, bDown), eps);
        return { gradient: e.add(transpose(sUp, up), transpose(sDown, down)) };
      }
      const [xp, xn] = signParts();
      const sUp = stabilised(masked('Greater'), e.add(apply(xp, up, bUp), apply(xn, down, undefined)), eps);
      const sDown = stabilised(masked('Less'), e.add(apply(xp, down, bDown), apply(xn, up, undefined)), eps);
      const forPos = e.add(transpose(sUp, up), transpose(sDown, down));
      const forNeg = e.add(transpose(sUp, down), transpose(sDown, up));
      return { gradient: e.where(e.op('GreaterOrEqual', [x, zero]), forPos, forNeg) };
    }
    case 'gamma-classic': {
      const w2 = w.map((v) => v + rule.gamma * Math.max(v, 0));
      const b2 = b?.map((v) => v + rule.gamma * Math.max(v, 0));
      return {
        gradient: transpose(
          stabilised(relevance(), apply(x, w2, b2), rule.epsilon ?? defaultGammaEpsilon),
          w2,
        ),
      };
    }
    case 'z-plus':
    case 'alpha-beta': {
      // zennit's AlphaBeta (ZPlus: α = 1, β = 0, negative side skipped): x ≥ 0 contributes
      // positively through W⁺, x < 0 through W⁻, the other way round for negative contributions.
      const [alpha, beta] = rule.kind === 'z-plus' ? [1, 0] : [rule.alpha, rule.beta];
      const wp = pos(w);
      const wn = neg(w);
      const r = relevance();
      const scale = (t: string, k: number) => (k === 1 ? t : e.mul(t, e.f32(k)));
      if (nonNegativeInput) {
        let gradient = scale(transpose(e.safeDiv(r, apply(x, wp, b && pos(b))), wp), alpha);
        if (beta !== 0)
          gradient = e.sub(gradient, scale(transpose(e.safeDiv(r, apply(x, wn, b && neg(b))), wn), beta));
        return { gradient };
      }
      const [xp, xn] = signParts();
      const sPos = e.safeDiv(r, e.add(apply(xp, wp, b && pos(b)), apply(xn, wn, undefined)));
      let forPos = scale(transpose(sPos, wp), alpha);
      let forNeg = scale(transpose(sPos, wn), alpha);
      if (beta !== 0) {
        const sNeg = e.safeDiv(r, e.add(apply(xp, wn, b && neg(b)), apply(xn, wp, undefined)));
        forPos = e.sub(forPos, scale(transpose(sNeg, wn), beta));
        forNeg = e.sub(forNeg, scale(transpose(sNeg, wp), beta));
      }
      return { gradient: e.where(e.op('GreaterOrEqual', [x, e.f32(0)]), forPos, forNeg) };
    }
    case 'z-box': {
      const low = inputs.low!;
      const high = inputs.high!;
      const wp = pos(w);
      const wn = neg(w);
      const den = e.sub(e.sub(apply(x, w, undefined), apply(low, wp, undefined)), apply(high, wn, undefined));
      const s = e.safeDiv(relevance(), den);
      const rel = e.sub(
        e.sub(e.mul(x, transpose(s, w)), e.mul(low, transpose(s, wp))),
        e.mul(high, transpose(s, wn)),
      );
      return fromRelevance(rel);
    }
    case 'w-square':
    case 'flat': {
      const w2 = rule.kind === 'flat' ? new Float32Array(countOf(weight.dims)).fill(1) : w.map((v) => v * v);
      const den = apply(e.onesLike(x), w2, undefined);
      return fromRelevance(transpose(e.safeDiv(relevance(), den), w2));
    }
  }
}
