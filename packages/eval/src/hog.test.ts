import { describe, expect, it } from 'vitest';
import { oneMap, selfAndNoise, smoothMap } from '../test/fixtures.js';
import { hog } from './hog.js';

describe('hog', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(hog, { cellSize: 4 });
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(hog.direction).toBe('neutral');
  });
});

describe('hog options', () => {
  it('refuses cells larger than the map before compute', async () => {
    await expect(
      hog.evaluate({ maps: oneMap(smoothMap()), reference: oneMap(smoothMap()) }, { cellSize: 30 }),
    ).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });
});
