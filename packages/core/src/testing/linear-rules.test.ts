import { describe, expect, it } from 'vitest';
import { createRng } from '../ops/random.js';
import type { LinearRule } from '../rules.js';
import { applyLinearRule, type LinearOp } from './linear-rules.js';
import { type ConvGeometry, conv2d, conv2dTranspose, dense, denseTranspose } from './ops.js';

const random = (length: number, seed: number, low = -1, high = 1): Float64Array => {
  const rng = createRng(seed, 4);
  return Float64Array.from({ length }, () => low + (high - low) * rng.uniform());
};
const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);

// A bias-free strided convolution: every rule below must conserve Σ R_in = Σ R_out. (Without
// padding every window has 18 terms of both signs, so no output of alpha-beta has an empty side,
// where its share would be dropped.)
const geo: ConvGeometry = { inC: 2, inH: 7, inW: 7, outC: 3, outH: 3, outW: 3, k: 3, stride: 2, pad: 0 };
const op: LinearOp = {
  apply: (x, n, w, b) => conv2d(x, n, geo, w, b),
  transpose: (g, n, w) => conv2dTranspose(g, n, geo, w),
};
const n = 2;
const weight = random(3 * 2 * 9, 1);
const x = random(n * 2 * 49, 2, 0, 1);
const g = random(n * 3 * 9, 3);

function conservation(rule: LinearRule, input = x): { inSum: number; outSum: number } {
  const z = op.apply(input, n, weight, null);
  const outSum = sum(z.map((v, i) => v * g[i]));
  const low = new Float64Array(input.length).fill(-1);
  const high = new Float64Array(input.length).fill(2);
  const r = applyLinearRule(rule, { op, weight, bias: null, x: input, g, n, low, high });
  const relevance = r.relevance ?? input.map((v, i) => v * r.gradient[i]);
  return { inSum: sum(relevance), outSum };
}

describe('linear rules conserve relevance on a bias-free convolution', () => {
  const rules: [string, LinearRule][] = [
    ['epsilon 0', { kind: 'epsilon', epsilon: 0 }],
    ['gamma, epsilon 0', { kind: 'gamma', gamma: 0.7, epsilon: 0 }],
    ['gamma-classic, epsilon 0', { kind: 'gamma-classic', gamma: 0.7, epsilon: 0 }],
    ['alpha-beta 2,1', { kind: 'alpha-beta', alpha: 2, beta: 1 }],
    ['alpha-beta 1,0', { kind: 'alpha-beta', alpha: 1, beta: 0 }],
    ['z-plus', { kind: 'z-plus' }],
    ['z-box', { kind: 'z-box', low: -1, high: 2 }],
    ['w-square', { kind: 'w-square' }],
    ['flat', { kind: 'flat' }],
  ];
  for (const [label, rule] of rules) {
    it(label, () => {
      const { inSum, outSum } = conservation(rule);
      expect(inSum).toBeCloseTo(outSum, 9);
    });
  }
  it('alpha-beta, z-plus and the generalised gamma conserve on inputs of both signs too', () => {
    for (const rule of [
      { kind: 'alpha-beta', alpha: 2, beta: 1 },
      { kind: 'z-plus' },
      { kind: 'gamma', gamma: 0.7, epsilon: 0 },
    ] as const) {
      const { inSum, outSum } = conservation(rule, random(n * 98, 5));
      expect(inSum, rule.kind).toBeCloseTo(outSum, 9);
    }
  });
  it('epsilon > 0 absorbs some relevance, never creates it', () => {
    const { inSum, outSum } = conservation({ kind: 'epsilon', epsilon: 0.5 });
    expect(Math.abs(inSum)).toBeLessThan(Math.abs(outSum));
  });
});

describe('gradient-like rules', () => {
  it('the gradient rule and epsilon 0 give Wᵀg; pattern gives Pᵀg', () => {
    const plain = op.transpose(g, n, weight);
    expect(
      Array.from(applyLinearRule({ kind: 'gradient' }, { op, weight, bias: null, x, g, n }).gradient),
    ).toEqual(Array.from(plain));
    const eps = applyLinearRule(
      { kind: 'epsilon', epsilon: 0 },
      { op, weight, bias: null, x, g, n },
    ).gradient;
    eps.forEach((v, i) => {
      expect(v).toBeCloseTo(plain[i], 9);
    });
    const pattern = random(weight.length, 6);
    const viaPattern = applyLinearRule(
      { kind: 'pattern', weight: { data: new Float32Array(0), shape: [0] } },
      { op, weight, bias: null, x, g, n, pattern },
    ).gradient;
    expect(Array.from(viaPattern)).toEqual(Array.from(op.transpose(g, n, pattern)));
  });
});

describe('the generalised gamma rule', () => {
  const apply = (rule: LinearRule, input: Float64Array, w = weight): Float64Array => {
    const out = applyLinearRule(rule, { op, weight: w, bias: null, x: input, g, n });
    return input.map((v, i) => v * out.gradient[i]);
  };
  it('equals gamma-classic on non-negative inputs when every output is positive', () => {
    const positive = weight.map(Math.abs);
    const a = apply({ kind: 'gamma', gamma: 0.4 }, x, positive);
    const b = apply({ kind: 'gamma-classic', gamma: 0.4 }, x, positive);
    a.forEach((v, i) => {
      expect(v).toBeCloseTo(b[i], 12);
    });
  });
  it('with γ = 0 it is the epsilon rule', () => {
    const mixed = random(n * 98, 7);
    const a = apply({ kind: 'gamma', gamma: 0, epsilon: 0.01 }, mixed);
    const b = apply({ kind: 'epsilon', epsilon: 0.01 }, mixed);
    a.forEach((v, i) => {
      expect(v).toBeCloseTo(b[i], 12);
    });
  });
  it('stays bounded where the classic denominator changes sign (x = (1, 1), w = (1, −1.2))', () => {
    // z = −0.2 = R. Classic, γ = 0.25: z' = 1.25 − 1.2 = 0.05, so R_in = (−5, 4.8): 25× R, of both
    // signs. Generalised: z↓ = 1 − 1.5 = −0.5, s = 0.4, R_in = (0.4, −0.6), summing to R.
    const lin: LinearOp = {
      apply: (v, m, w, b) => dense(v, m, 2, 1, w, b),
      transpose: (t, m, w) => denseTranspose(t, m, 2, 1, w),
    };
    const input = {
      op: lin,
      weight: Float64Array.of(1, -1.2),
      bias: null,
      x: Float64Array.of(1, 1),
      g: Float64Array.of(1),
      n: 1,
    };
    const classic = applyLinearRule({ kind: 'gamma-classic', gamma: 0.25, epsilon: 0 }, input).gradient;
    const general = applyLinearRule({ kind: 'gamma', gamma: 0.25, epsilon: 0 }, input).gradient;
    expect(classic[0]).toBeCloseTo(-5, 9);
    expect(classic[1]).toBeCloseTo(4.8, 9);
    expect(general[0]).toBeCloseTo(0.4, 9);
    expect(general[1]).toBeCloseTo(-0.6, 9);
  });
});
