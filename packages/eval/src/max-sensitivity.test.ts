import { describe, expect, it } from 'vitest';
import {
  batch,
  constantExplainer,
  gradientTimesInput,
  linearModel,
  plainGradient,
} from '../test/fixtures.js';
import { avgSensitivity } from './avg-sensitivity.js';
import { maxSensitivity } from './max-sensitivity.js';

describe('max-sensitivity and avg-sensitivity', () => {
  const { model } = linearModel();
  const input = batch(model, 2, 31);

  it('are 0 for a constant explainer and for the gradient of a linear model', async () => {
    for (const explainer of [constantExplainer, plainGradient]) {
      expect((await maxSensitivity.evaluate({ model, input, explainer })).scores).toEqual([0, 0]);
      expect((await avgSensitivity.evaluate({ model, input, explainer })).scores).toEqual([0, 0]);
    }
  });

  it('scale with the radius for Gradient ⊙ Input on a linear model, max ≥ mean', async () => {
    const request = { model, input, target: 1, explainer: gradientTimesInput };
    const small = await maxSensitivity.evaluate(request, { radius: 0.1, samples: 5 });
    const large = await maxSensitivity.evaluate(request, { radius: 0.2, samples: 5 });
    const mean = await avgSensitivity.evaluate(request, { radius: 0.1, samples: 5 });
    for (let i = 0; i < 2; i++) {
      // The map changes by w ⊙ δ, linear in δ, and the draws are the same for both radii.
      expect(large.scores[i]).toBeCloseTo(2 * small.scores[i], 5);
      expect(small.scores[i]).toBeGreaterThan(0);
      expect(small.scores[i]).toBeGreaterThanOrEqual(mean.scores[i]);
    }
    const one = await maxSensitivity.evaluate(request, { samples: 1 });
    expect((await avgSensitivity.evaluate(request, { samples: 1 })).scores).toEqual(one.scores);
  });

  it('offers Quantus’s relative score (divided by the norm of the unperturbed map)', async () => {
    const request = { model, input, target: 1, explainer: gradientTimesInput };
    const plain = await maxSensitivity.evaluate(request, { samples: 3 });
    const relative = await maxSensitivity.evaluate(request, { samples: 3, relative: true });
    for (let i = 0; i < 2; i++) expect(relative.scores[i]).toBeLessThan(plain.scores[i]);
    const normalized = await maxSensitivity.evaluate(request, { samples: 3, normalize: true });
    expect(normalized.options.normalize).toBe(true);
  });

  it('needs an explainer', async () => {
    await expect(maxSensitivity.evaluate({ model, input })).rejects.toThrow(/needs an explainer/);
  });
});
