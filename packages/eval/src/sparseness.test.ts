import { describe, expect, it } from 'vitest';
import { sparseness } from './sparseness.js';

describe('sparseness', () => {
  it('is (n − 1)/n for one non-zero pixel, 0 for a flat map, and ignores sign and scale', async () => {
    const one = new Float32Array(16);
    one[5] = -3;
    const flat = new Float32Array(16).fill(2);
    const data = new Float32Array(32);
    data.set(one, 0);
    data.set(flat, 16);
    const got = await sparseness.evaluate({ maps: { data, shape: [2, 4, 4] } });
    expect(got.scores[0]).toBeCloseTo(15 / 16, 12);
    expect(got.scores[1]).toBeCloseTo(0, 12);
  });

  it('matches the Gini formula on a small map', async () => {
    // |a| sorted: 0, 1, 2, 3 → Σ(2k − 5)a_k = (−3·0 − 1·1 + 1·2 + 3·3) = 10; 10 / (4 · 6).
    const got = await sparseness.evaluate({
      maps: { data: Float32Array.from([3, -1, 0, 2]), shape: [1, 2, 2] },
    });
    expect(got.scores[0]).toBeCloseTo(10 / 24, 12);
  });

  it('has no score for an all-zero map', async () => {
    const got = await sparseness.evaluate({ maps: { data: new Float32Array(4), shape: [1, 2, 2] } });
    expect(got.scores[0]).toBeNaN();
  });
});
