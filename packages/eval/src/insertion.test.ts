import { describe, expect, it } from 'vitest';
import { batch, linearModel, randomMaps, trueMaps } from '../test/fixtures.js';
import { insertion } from './insertion.js';
import { trapezoid } from './internal/stats.js';

describe('insertion', () => {
  it('scores the true map of a linear model above a random map, exactly as the analytic area', async () => {
    const { model, weights, h, w } = linearModel({ layout: 'NHWC' });
    const input = batch(model, 2, 7);
    const targets = [1, 0];
    const maps = trueMaps(model, weights, input, targets);
    const steps = 12;
    const got = await insertion.evaluate(
      { model, input, target: targets, maps },
      { steps, fill: 'zero', score: 'logit' },
    );
    for (let i = 0; i < 2; i++) {
      // Inserting into zeros adds exactly the contributions, most relevant first.
      const contrib = Array.from(maps.data.subarray(i * h * w, (i + 1) * h * w)).sort((a, b) => b - a);
      const x: number[] = [];
      const y: number[] = [];
      for (let s = 0; s <= steps; s++) {
        const k = Math.round((s * h * w) / steps);
        x.push(k / (h * w));
        y.push(contrib.slice(0, k).reduce((a, b) => a + b, 0));
      }
      expect(got.scores[i]).toBeCloseTo(trapezoid(x, y), 4);
    }
    const random = await insertion.evaluate(
      { model, input, target: targets, maps: randomMaps(2, h, w, 8) },
      { steps, fill: 'zero', score: 'logit' },
    );
    for (let i = 0; i < 2; i++) expect(got.scores[i]).toBeGreaterThan(random.scores[i]);
  });

  it('starts from a blurred image with the probability by default', async () => {
    const { model, weights } = linearModel();
    const input = batch(model, 1, 7);
    const got = await insertion.evaluate({
      model,
      input,
      target: 0,
      maps: trueMaps(model, weights, input, [0]),
    });
    expect(got.options).toMatchObject({ fill: 'blur', blurSigma: 5, score: 'softmax', steps: 100 });
    expect(got.curves?.[0].x[0]).toBe(0);
    expect(got.curves?.[0].x.at(-1)).toBe(1);
    expect(got.direction).toBe('higher');
  });
});
