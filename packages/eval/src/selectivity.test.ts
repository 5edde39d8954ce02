import { describe, expect, it } from 'vitest';
import { batch, linearModel, randomMaps, trueMaps } from '../test/fixtures.js';
import { selectivity } from './selectivity.js';

describe('selectivity', () => {
  it('a map that points at the evidence makes the score fall first: lower area than a random map', async () => {
    const { model, weights, h, w } = linearModel({ h: 12, w: 12, classes: 2 });
    const input = batch(model, 4, 17);
    const targets = [0, 1, 0, 1];
    const request = { model, input, target: targets };
    const truth = await selectivity.evaluate({ ...request, maps: trueMaps(model, weights, input, targets) });
    const random = await selectivity.evaluate({ ...request, maps: randomMaps(4, h, w, 3) });
    // The inverted true map removes the least relevant patches first: the worst case.
    const inverted = trueMaps(model, weights, input, targets);
    inverted.data.forEach((v, e) => {
      inverted.data[e] = -v;
    });
    const worst = await selectivity.evaluate({ ...request, maps: inverted });
    for (let i = 0; i < 4; i++) {
      expect(truth.scores[i]).toBeLessThan(random.scores[i]);
      expect(random.scores[i]).toBeLessThan(worst.scores[i]);
    }
    expect(truth.curves?.[0].x).toHaveLength(10);
  });
});
