import { describe, expect, it } from 'vitest';
import { oneMap, selfAndNoise, smoothMap } from '../test/fixtures.js';
import { pearson } from './pearson.js';

describe('pearson', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(pearson, {});
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(pearson.direction).toBe('neutral');
  });
});

describe('pearson of a constant map', () => {
  it('has no score, and says so', async () => {
    const got = await pearson.evaluate({
      maps: oneMap(new Float32Array(576).fill(2)),
      reference: oneMap(smoothMap()),
    });
    expect(got.scores[0]).toBeNaN();
    expect(got.warnings[0]).toMatch(/constant/);
  });
});
