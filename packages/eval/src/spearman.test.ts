import { describe, expect, it } from 'vitest';
import { selfAndNoise } from '../test/fixtures.js';
import { spearman } from './spearman.js';

describe('spearman', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(spearman, {});
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(spearman.direction).toBe('neutral');
  });
});
