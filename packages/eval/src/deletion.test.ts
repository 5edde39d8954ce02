import { describe, expect, it } from 'vitest';
import { batch, linearModel, randomMaps, trueMaps } from '../test/fixtures.js';
import { deletion } from './deletion.js';
import { trapezoid } from './internal/stats.js';

describe('deletion', () => {
  it('equals the analytic area for the true map of a linear model, and beats a random map', async () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const { model, weights, h, w } = linearModel({ layout });
      const input = batch(model, 2, 3);
      const targets = [0, 2];
      const maps = trueMaps(model, weights, input, targets);
      const steps = 9;
      const got = await deletion.evaluate({ model, input, target: targets, maps }, { steps, score: 'logit' });
      for (let i = 0; i < 2; i++) {
        // Deleting pixels into zeros removes exactly their contributions, most relevant first.
        const contrib = Array.from(maps.data.subarray(i * h * w, (i + 1) * h * w)).sort((a, b) => b - a);
        const total = contrib.reduce((a, b) => a + b, 0);
        const x: number[] = [];
        const y: number[] = [];
        for (let s = 0; s <= steps; s++) {
          const k = Math.round((s * h * w) / steps);
          x.push(k / (h * w));
          y.push(total - contrib.slice(0, k).reduce((a, b) => a + b, 0));
        }
        expect(got.scores[i]).toBeCloseTo(trapezoid(x, y), 4);
        expect(got.curves?.[i].x).toEqual(x);
      }
      const random = await deletion.evaluate(
        { model, input, target: targets, maps: randomMaps(2, h, w, 4) },
        { steps, score: 'logit' },
      );
      for (let i = 0; i < 2; i++) expect(got.scores[i]).toBeLessThan(random.scores[i]);
    }
  });

  it('reads the softmax probability by default and reports its options', async () => {
    const { model, weights } = linearModel();
    const input = batch(model, 1, 3);
    const got = await deletion.evaluate({
      model,
      input,
      target: 1,
      maps: trueMaps(model, weights, input, [1]),
    });
    expect(got.score).toBe('softmax');
    expect(got.scores[0]).toBeGreaterThanOrEqual(0);
    expect(got.scores[0]).toBeLessThanOrEqual(1);
    expect(got.options).toMatchObject({ steps: 100, fill: 'zero', score: 'softmax', seed: 0 });
  });

  it('validates the fill before compute', async () => {
    const { model } = linearModel();
    const input = batch(model, 1, 3);
    await expect(
      deletion.evaluate({ model, input, maps: randomMaps(1, 6, 6, 1) }, { fill: 'purple' }),
    ).rejects.toMatchObject({ code: 'invalid-option' });
  });
});
