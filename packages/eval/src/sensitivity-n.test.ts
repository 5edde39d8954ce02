import { explain } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { batch, gradientTimesInput, linearModel, randomMaps } from '../test/fixtures.js';
import { sensitivityN } from './sensitivity-n.js';

describe('sensitivity-n', () => {
  it('holds for Gradient ⊙ Input on a linear model for every n (correlation 1)', async () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const { model } = linearModel({ layout, h: 8, w: 8 });
      const input = batch(model, 2, 19);
      const attribution = await explain(gradientTimesInput, model, input, [1, 2]);
      const sizes = [1 / 64, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1];
      const got = await sensitivityN.evaluate(
        { model, input, target: [1, 2], maps: attribution.map },
        { sizes, subsets: 20 },
      );
      for (const curve of got.curves ?? []) {
        // n = all pixels: every subset is the whole image, so the sums are constant and there is no correlation.
        expect(curve.y.slice(0, -1).every((r) => Math.abs(r - 1) < 1e-6)).toBe(true);
        expect(curve.y.at(-1)).toBeNaN();
        expect(curve.x[0]).toBe(1 / 64);
      }
      expect(got.scores.every((s) => Math.abs(s - 1) < 1e-6)).toBe(true);
      expect(got.warnings).toHaveLength(2);
    }
  });

  it('is far from 1 for a random map', async () => {
    const { model } = linearModel({ h: 8, w: 8 });
    const input = batch(model, 2, 19);
    const got = await sensitivityN.evaluate(
      { model, input, target: 0, maps: randomMaps(2, 8, 8, 1) },
      { subsets: 30 },
    );
    for (const s of got.scores) expect(Math.abs(s)).toBeLessThan(0.6);
  });

  it('checks its sizes before compute', async () => {
    const { model } = linearModel();
    const input = batch(model, 1, 19);
    await expect(
      sensitivityN.evaluate({ model, input, maps: randomMaps(1, 6, 6, 1) }, { sizes: [0.5, 1.5] }),
    ).rejects.toMatchObject({ code: 'invalid-option' });
  });
});
