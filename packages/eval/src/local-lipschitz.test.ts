import { describe, expect, it } from 'vitest';
import { batch, constantExplainer, gradientTimesInput, linearModel } from '../test/fixtures.js';
import { localLipschitz } from './local-lipschitz.js';

describe('local-lipschitz', () => {
  const { model } = linearModel();
  const input = batch(model, 2, 37);

  it('is 0 for a constant explainer', async () => {
    expect((await localLipschitz.evaluate({ model, input, explainer: constantExplainer })).scores).toEqual([
      0, 0,
    ]);
  });

  it('does not depend on the noise scale for a map linear in the input (G ⊙ I of a linear model)', async () => {
    const request = { model, input, target: 0, explainer: gradientTimesInput };
    const a = await localLipschitz.evaluate(request, { sigma: 0.05 });
    const b = await localLipschitz.evaluate(request, { sigma: 0.2 });
    for (let i = 0; i < 2; i++) {
      expect(a.scores[i]).toBeGreaterThan(0);
      expect(b.scores[i]).toBeCloseTo(a.scores[i], 5);
    }
  });
});
