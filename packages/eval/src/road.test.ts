import { describe, expect, it } from 'vitest';
import { batch, linearModel, randomMaps, trueMaps } from '../test/fixtures.js';
import { road } from './road.js';

describe('road', () => {
  const { model, weights, h, w } = linearModel({ h: 10, w: 10, classes: 4, seed: 3 });
  const input = batch(model, 6, 29);

  it('ranks the true map above a random one (MoRF: the target falls faster)', async () => {
    // The predicted classes: a class the model already gives ~0 probability cannot fall further,
    // and its MoRF curve orders nothing.
    const logits = await model.forward(input);
    const targets = Array.from({ length: 6 }, (_, i) => {
      const row = Array.from(logits.data.subarray(i * 4, (i + 1) * 4));
      return row.indexOf(Math.max(...row));
    });
    const request = { model, input, target: targets };
    const truth = await road.evaluate(
      { ...request, maps: trueMaps(model, weights, input, targets) },
      { measure: 'probability' },
    );
    const random = await road.evaluate(
      { ...request, maps: randomMaps(6, h, w, 2) },
      { measure: 'probability' },
    );
    expect(truth.summary.mean).toBeLessThan(random.summary.mean);
    for (let i = 0; i < 6; i++) expect(truth.scores[i]).toBeLessThan(random.scores[i]);
    const accuracy = await road.evaluate({ ...request, maps: trueMaps(model, weights, input, targets) });
    const randomAccuracy = await road.evaluate({ ...request, maps: randomMaps(6, h, w, 2) });
    expect(accuracy.summary.mean).toBeLessThan(randomAccuracy.summary.mean);
    expect(accuracy.curves?.[0].x).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });

  it('imputes removed pixels from their neighbours: a constant image stays constant up to the noise', async () => {
    const flat = { data: new Float32Array(3 * 100).fill(0.4), shape: [1, 3, 10, 10] };
    const got = await road.evaluate(
      { model, input: flat, target: 0, maps: randomMaps(1, h, w, 2) },
      { measure: 'probability', noise: 0, percentages: [0, 0.5] },
    );
    // Same image at 0% and 50% removal: the same probability.
    expect(got.curves?.[0].y[1]).toBeCloseTo(got.curves?.[0].y[0] ?? Number.NaN, 6);
  });

  it('refuses to remove every pixel', async () => {
    await expect(
      road.evaluate({ model, input, maps: randomMaps(6, h, w, 2) }, { percentages: [1] }),
    ).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });
});
