import { describe, expect, it } from 'vitest';
import { batch, linearModel, trueMaps } from '../test/fixtures.js';
import { regionPerturbation } from './region-perturbation.js';

describe('region-perturbation', () => {
  it('AOPC of the true map is larger MoRF than LeRF, region by region', async () => {
    const { model, weights } = linearModel({ h: 9, w: 9 });
    const input = batch(model, 3, 13);
    const targets = [2, 0, 1];
    const request = { model, input, target: targets, maps: trueMaps(model, weights, input, targets) };
    // The true map holds each pixel's contribution against zero, so the fill is zero.
    const morf = await regionPerturbation.evaluate(request, { regionSize: 3, fill: 'zero' });
    const lerf = await regionPerturbation.evaluate(request, { regionSize: 3, fill: 'zero', order: 'lerf' });
    for (let i = 0; i < 3; i++) expect(morf.scores[i]).toBeGreaterThan(lerf.scores[i]);
    // 9 regions of 3×3: L is capped at 9 steps, each perturbing 9 more pixels.
    expect(morf.curves?.[0].x).toEqual(Array.from({ length: 10 }, (_, k) => k / 9));
  });

  it('clips regions at the image edges and counts the pixels actually perturbed', async () => {
    const { model, weights } = linearModel({ h: 5, w: 5 });
    const input = batch(model, 1, 13);
    const got = await regionPerturbation.evaluate(
      { model, input, target: 0, maps: trueMaps(model, weights, input, [0]) },
      { regionSize: 3 },
    );
    // Cells of 9, 6, 6 and 4 pixels in some order; the last step covers all 25.
    const x = got.curves?.[0].x ?? [];
    expect(x).toHaveLength(5);
    expect(x.at(-1)).toBe(1);
    const sizes = x.slice(1).map((v, k) => Math.round((v - x[k]) * 25));
    expect([...sizes].sort()).toEqual([4, 6, 6, 9]);
  });
});
