import { type Tensor, XlensError } from '@xlens/core';
import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { iou, regionSpec, squareRegion } from '../test/models.js';
import { meaningfulPerturbation } from './meaningful-perturbation.js';

// Class 0 of the toy reads only the mean of a 6×6 square; the image is bright everywhere, so only
// the model — not the image — singles the square out.
const size = 16;
const region = squareRegion(size, 4, 8, 6);
const model = referenceModel(regionSpec(size, region), { inputRange: [0, 1] });
const image: Tensor = {
  data: Float32Array.from({ length: size * size }, (_, p) => 0.6 + (0.4 * ((p * 7) % 5)) / 4),
  shape: [1, 1, size, size],
};
const quick = { steps: 150, cells: 8, fill: 'zero' as const, tv: 0.05 };

describe('meaningful-perturbation', () => {
  it('deletion (SDR) finds the region the score depends on and its mask destroys the score', async () => {
    const a = await meaningfulPerturbation.explain(model, image, 0, { ...quick, objective: 'deletion' });
    expect(a.map.shape).toEqual([1, size, size]);
    expect(iou(a.map.data, region)).toBeGreaterThan(0.7);
    // Deleting the mask lowers the score (the game's aim) to under a fifth of the clean one.
    expect(a.extras.maskedScore[0]).toBeLessThan(0.2 * a.extras.cleanScore[0]);
    expect(a.extras.maskArea[0]).toBeLessThan(0.3);
  });

  it('preservation (SSR) finds the region and its mask keeps the score', async () => {
    const a = await meaningfulPerturbation.explain(model, image, 0, { ...quick, objective: 'preservation' });
    expect(iou(a.map.data, region)).toBeGreaterThan(0.7);
    expect(a.extras.maskedScore[0]).toBeGreaterThan(0.8 * a.extras.cleanScore[0]);
    expect(a.extras.maskArea[0]).toBeLessThan(0.3);
  });

  it('without the area term the deletion mask grows past the region (the L1 term is what keeps it small)', async () => {
    const a = await meaningfulPerturbation.explain(model, image, 1, { ...quick, area: 0, tv: 0 });
    // Class 1 weighs every pixel: with nothing to pay for area, the whole image is deleted.
    expect(a.extras.maskArea[0]).toBeGreaterThan(0.9);
  });

  it('reports progress, honours abort and rejects bad options before any pass', async () => {
    const seen: number[] = [];
    await meaningfulPerturbation.explain(model, image, 0, {
      ...quick,
      steps: 3,
      onProgress: (p) => seen.push(p.done / p.total),
    });
    expect(seen.at(-1)).toBe(1);
    const controller = new AbortController();
    controller.abort();
    await expect(
      meaningfulPerturbation.explain(model, image, 0, { ...quick, signal: controller.signal }),
    ).rejects.toThrow(/abort/i);
    await expect(meaningfulPerturbation.explain(model, image, 0, { cells: 99 })).rejects.toBeInstanceOf(
      XlensError,
    );
  });
});
