import { explain, reduceChannels } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { batch, gradientTimesInput, linearModel, plainGradient, randomMaps } from '../test/fixtures.js';
import { infidelity } from './infidelity.js';

describe('infidelity', () => {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    const { model } = linearModel({ layout, h: 8, w: 8 });
    const input = batch(model, 2, 23);
    const target = [2, 0];

    it(`is 0 for Gradient ⊙ Input on a linear model (${layout})`, async () => {
      const gi = await explain(gradientTimesInput, model, input, target);
      const got = await infidelity.evaluate({ model, input, target, maps: gi.map }, { form: 'times-input' });
      for (const s of got.scores) expect(s).toBeLessThan(1e-9);
      // Reduced to pixels, the map is spread over the channels and keeps its pixel sums: still 0.
      const pixels = await infidelity.evaluate(
        { model, input, target, maps: reduceChannels(gi.map, layout, 'sum') },
        { form: 'times-input' },
      );
      for (const s of pixels.scores) expect(s).toBeLessThan(1e-9);
    });

    it(`is 0 for the gradient of a linear model under noise and squares (${layout})`, async () => {
      const g = await explain(plainGradient, model, input, target);
      for (const perturbation of ['noise', 'square'] as const) {
        const got = await infidelity.evaluate({ model, input, target, maps: g.map }, { perturbation });
        for (const s of got.scores) expect(s).toBeLessThan(1e-9);
      }
    });
  }

  it('is large for a random map, and the β-normalised variant never exceeds the plain one', async () => {
    const { model } = linearModel({ h: 8, w: 8 });
    const input = batch(model, 2, 23);
    const request = { model, input, target: 0, maps: randomMaps(2, 8, 8, 5) };
    const plain = await infidelity.evaluate(request);
    const scaled = await infidelity.evaluate(request, { normalize: true });
    for (let i = 0; i < 2; i++) {
      expect(plain.scores[i]).toBeGreaterThan(0.1);
      expect(scaled.scores[i]).toBeLessThanOrEqual(plain.scores[i]);
    }
  });

  it('refuses the times-input form with noise', async () => {
    const { model } = linearModel();
    const input = batch(model, 1, 23);
    await expect(
      infidelity.evaluate(
        { model, input, maps: randomMaps(1, 6, 6, 5) },
        { form: 'times-input', perturbation: 'noise' },
      ),
    ).rejects.toMatchObject({ code: 'invalid-option' });
  });
});
