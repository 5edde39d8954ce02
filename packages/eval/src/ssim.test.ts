import { describe, expect, it } from 'vitest';
import { oneMap, selfAndNoise, smoothMap } from '../test/fixtures.js';
import { ssim } from './ssim.js';

describe('ssim', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(ssim, {});
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(ssim.direction).toBe('neutral');
  });
});

describe('ssim shapes', () => {
  it('checks that the reference has the maps’ shape', async () => {
    await expect(
      ssim.evaluate({
        maps: oneMap(smoothMap()),
        reference: { data: new Float32Array(24 * 23), shape: [1, 24, 23] },
      }),
    ).rejects.toMatchObject({ code: 'invalid-shape' });
  });
});
