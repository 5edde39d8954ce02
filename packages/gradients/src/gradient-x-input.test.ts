import { biasFreeCnn, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { gradientXInput } from './gradient-x-input.js';

describe('gradient-x-input', () => {
  it('is input ⊙ gradient', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomTensor([2, 3, 8, 8], 31);
    const g = await gradient.explain(model, x, 1);
    const gi = await gradientXInput.explain(model, x, 1);
    for (let e = 0; e < x.data.length; e++) expect(gi.map.data[e]).toBeCloseTo(x.data[e] * g.map.data[e], 6);
  });

  it('sums to the logit on a bias-free ReLU net (positive homogeneity)', async () => {
    const model = referenceModel(biasFreeCnn());
    const x = randomTensor([2, 2, 12, 12], 32);
    const out = await model.forward(x);
    const gi = await gradientXInput.explain(model, x, [0, 3]);
    const per = 2 * 12 * 12;
    for (const [i, c] of [0, 3].entries()) {
      const sum = gi.map.data.slice(i * per, (i + 1) * per).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(out.data[i * 4 + c], 4);
    }
  });
});
