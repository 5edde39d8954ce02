import { describe, expect, it } from 'vitest';
import { selfAndNoise } from '../test/fixtures.js';
import { topKIntersection } from './top-k-intersection.js';

describe('top-k-intersection', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(topKIntersection, { fraction: 0.05 });
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(topKIntersection.direction).toBe('neutral');
  });
});

describe('top-k-intersection by hand', () => {
  it('is the shared share of the k most important pixels', async () => {
    const a = { data: Float32Array.from([9, 8, 7, 1, 0, 0]), shape: [1, 2, 3] };
    const b = { data: Float32Array.from([9, 0, 7, -8, 0, 0]), shape: [1, 2, 3] };
    // k = 3: top of a {0, 1, 2}, top of |b| {0, 3, 2}: two shared.
    expect(
      (await topKIntersection.evaluate({ maps: a, reference: b }, { fraction: 0.5 })).scores[0],
    ).toBeCloseTo(2 / 3, 12);
    expect(
      (await topKIntersection.evaluate({ maps: a, reference: b }, { fraction: 0.5, absolute: false }))
        .scores[0],
    ).toBe(1);
  });
});
