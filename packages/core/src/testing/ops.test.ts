import { describe, expect, it } from 'vitest';
import { createRng } from '../ops/random.js';
import {
  type ConvGeometry,
  conv2d,
  conv2dTranspose,
  dense,
  denseTranspose,
  maxPool,
  permuteLayout,
} from './ops.js';

const random = (length: number, seed: number): Float64Array => {
  const rng = createRng(seed, 3);
  return Float64Array.from({ length }, () => rng.uniform() * 2 - 1);
};
const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0);

describe('kernels', () => {
  it('conv2d on a hand example: 1×3×3 input, 2×2 kernel, valid', () => {
    const g: ConvGeometry = { inC: 1, inH: 3, inW: 3, outC: 1, outH: 2, outW: 2, k: 2, stride: 1, pad: 0 };
    const x = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const out = conv2d(x, 1, g, Float64Array.of(1, 0, 0, -1), Float64Array.of(10));
    // out[y, x] = x[y, x] − x[y+1, x+1] + 10 = −4 + 10 everywhere.
    expect(Array.from(out)).toEqual([6, 6, 6, 6]);
  });
  it('conv2d with same padding keeps the size and sees zeros outside', () => {
    const g: ConvGeometry = { inC: 1, inH: 2, inW: 2, outC: 1, outH: 2, outW: 2, k: 3, stride: 1, pad: 1 };
    const out = conv2d(Float64Array.of(1, 2, 3, 4), 1, g, new Float64Array(9).fill(1), null);
    expect(Array.from(out)).toEqual([10, 10, 10, 10]);
  });
  for (const [label, g] of [
    ['same padding', { inC: 3, inH: 6, inW: 5, outC: 4, outH: 6, outW: 5, k: 3, stride: 1, pad: 1 }],
    ['stride 2 valid', { inC: 2, inH: 7, inW: 7, outC: 3, outH: 3, outW: 3, k: 3, stride: 2, pad: 0 }],
  ] as const) {
    it(`conv2dTranspose is the adjoint of conv2d (${label})`, () => {
      const n = 2;
      const x = random(n * g.inC * g.inH * g.inW, 1);
      const gy = random(n * g.outC * g.outH * g.outW, 2);
      const w = random(g.outC * g.inC * g.k * g.k, 3);
      expect(dot(conv2d(x, n, g, w, null), gy)).toBeCloseTo(dot(x, conv2dTranspose(gy, n, g, w)), 10);
    });
  }
  it('denseTranspose is the adjoint of dense', () => {
    const x = random(3 * 5, 4);
    const gy = random(3 * 4, 5);
    const w = random(4 * 5, 6);
    expect(dot(dense(x, 3, 5, 4, w, null), gy)).toBeCloseTo(dot(x, denseTranspose(gy, 3, 5, 4, w)), 10);
  });
  it('maxPool picks the first maximum of each window', () => {
    const { out, winners } = maxPool(
      Float64Array.of(1, 3, 3, 0, 2, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0),
      1,
      1,
      4,
      4,
      2,
    );
    expect(Array.from(out)).toEqual([3, 3, 0, 0]);
    expect(Array.from(winners)).toEqual([1, 2, 8, 10]);
  });
  it('permuteLayout round-trips', () => {
    const x = random(2 * 3 * 4 * 5, 7);
    const last = permuteLayout(x, 2, 3, 4, 5, true);
    expect(last[1]).toBe(x[20]);
    expect(Array.from(permuteLayout(last, 2, 3, 4, 5, false))).toEqual(Array.from(x));
  });
});
