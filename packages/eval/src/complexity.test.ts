import { describe, expect, it } from 'vitest';
import { complexity } from './complexity.js';

describe('complexity', () => {
  it('is 0 for one pixel, ln(n) for a flat map, the entropy of |a|/Σ|a| otherwise', async () => {
    const data = new Float32Array(3 * 4);
    data[1] = -2;
    data.fill(0.5, 4, 8);
    data.set([1, -1, 2, 0], 8);
    const got = await complexity.evaluate({ maps: { data, shape: [3, 2, 2] } });
    expect(got.scores[0]).toBe(0);
    expect(got.scores[1]).toBeCloseTo(Math.log(4), 12);
    expect(got.scores[2]).toBeCloseTo(-(2 * 0.25 * Math.log(0.25) + 0.5 * Math.log(0.5)), 12);
  });
});
