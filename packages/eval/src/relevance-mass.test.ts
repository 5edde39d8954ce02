import { describe, expect, it } from 'vitest';
import { relevanceMass } from './relevance-mass.js';

describe('relevance-mass', () => {
  // 2×3 map and a mask on the left column.
  const maps = { data: Float32Array.from([3, 1, -2, 1, 0, 2]), shape: [1, 2, 3] };
  const masks = { data: Float32Array.from([1, 0, 0, 1, 0, 0]), shape: [1, 2, 3] };

  it('is the share of positive relevance inside the mask by default', async () => {
    expect((await relevanceMass.evaluate({ maps, masks })).scores[0]).toBeCloseTo(4 / 7, 12);
  });

  it('follows Quantus with signed values, and counts magnitudes with abs', async () => {
    expect((await relevanceMass.evaluate({ maps, masks }, { values: 'signed' })).scores[0]).toBeCloseTo(
      4 / 5,
      12,
    );
    expect((await relevanceMass.evaluate({ maps, masks }, { values: 'abs' })).scores[0]).toBeCloseTo(
      4 / 9,
      12,
    );
  });

  it('is 1 for a map inside the mask and has no score for an all-zero map', async () => {
    const inside = { data: Float32Array.from([2, 0, 0, 5, 0, 0]), shape: [1, 2, 3] };
    expect((await relevanceMass.evaluate({ maps: inside, masks })).scores[0]).toBe(1);
    const zero = await relevanceMass.evaluate({
      maps: { data: new Float32Array(6), shape: [1, 2, 3] },
      masks,
    });
    expect(zero.scores[0]).toBeNaN();
    expect(zero.warnings).toHaveLength(1);
  });
});
