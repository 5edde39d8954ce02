import { type Tensor, XlensError } from '@xlens/core';
import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { iou, regionSpec, squareRegion } from '../test/models.js';
import { extremalPerturbation } from './extremal-perturbation.js';

// Class 0 reads only the mean of a 6×6 square (36 of 256 pixels); the image is bright everywhere.
const size = 16;
const region = squareRegion(size, 4, 8, 6);
const regionArea = 36 / 256;
const model = referenceModel(regionSpec(size, region), { inputRange: [0, 1] });
const image: Tensor = {
  data: Float32Array.from({ length: size * size }, (_, p) => 0.6 + (0.4 * ((p * 7) % 5)) / 4),
  shape: [1, 1, size, size],
};
const quick = { steps: 300, stride: 2, fill: 'zero' as const };

describe('extremal-perturbation', () => {
  it('at the area of the region, the preservation mask is the region and keeps the score', async () => {
    const a = await extremalPerturbation.explain(model, image, 0, { ...quick, areas: [regionArea] });
    expect(iou(a.map.data, region)).toBeGreaterThan(0.7);
    expect(Math.abs(a.extras.maskArea[0] - regionArea)).toBeLessThan(0.02);
    expect(a.extras.maskedScore[0]).toBeGreaterThan(0.8 * a.extras.cleanScore[0]);
  });

  it('reaches every area target within ±2%, smaller areas inside the region', async () => {
    const areas = [0.05, 0.1, 0.3];
    const a = await extremalPerturbation.explain(model, image, 0, { ...quick, areas });
    for (let k = 0; k < areas.length; k++)
      expect(Math.abs(a.extras.maskArea[k] - areas[k])).toBeLessThan(0.02);
    // The mean map is highest inside the region: every mask covers the region first.
    let inside = 0;
    let outside = 0;
    for (let p = 0; p < size * size; p++) {
      if (region[p]) inside += a.map.data[p] / 36;
      else outside += a.map.data[p] / (256 - 36);
    }
    expect(inside).toBeGreaterThan(3 * outside);
    // Preserving more of the region keeps more of the score.
    expect(a.extras.maskedScore[0]).toBeLessThan(a.extras.maskedScore[1]);
  });

  it('the deletion mask of the region area destroys the score', async () => {
    const a = await extremalPerturbation.explain(model, image, 0, {
      ...quick,
      areas: [regionArea],
      objective: 'deletion',
    });
    expect(iou(a.map.data, region)).toBeGreaterThan(0.7);
    expect(a.extras.maskedScore[0]).toBeLessThan(0.2 * a.extras.cleanScore[0]);
  });

  it('rejects areas outside (0, 1) before any pass', async () => {
    await expect(extremalPerturbation.explain(model, image, 0, { areas: [0] })).rejects.toBeInstanceOf(
      XlensError,
    );
    await expect(extremalPerturbation.explain(model, image, 0, { areas: [] })).rejects.toThrow(/areas/);
  });
});
