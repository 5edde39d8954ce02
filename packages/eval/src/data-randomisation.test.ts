import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { gradient } from '@xlens/gradients';
import { describe, expect, it } from 'vitest';
import { sobel } from '../test/check-fixtures.js';
import { dataRandomisation } from './data-randomisation.js';

// Two models of one architecture with unrelated weights stand in for "trained" and "trained on
// permuted labels" (the zoo's pair is checked in the integration test).
const model = referenceModel(tinyCnn(2), { inputRange: [0, 1] });
const permuted = referenceModel(tinyCnn(9), { inputRange: [0, 1] });
const input = randomInput(model, 4, 3);

describe('data-randomisation', () => {
  it('passes for gradient maps of unrelated weights and fails for a model-blind edge map', async () => {
    const g = await dataRandomisation.run({ model, input, secondModel: permuted, explainer: gradient });
    expect(g.verdict).toBe('pass');
    expect(g.score).toBeLessThan(0.5);
    const s = await dataRandomisation.run({ model, input, secondModel: permuted, explainer: sobel });
    expect(s.score).toBeCloseTo(1, 10);
    expect(s.verdict).toBe('fail');
    // The same model twice is the degenerate case: identical maps.
    const same = await dataRandomisation.run({ model, input, secondModel: model, explainer: gradient });
    expect(same.score).toBeCloseTo(1, 10);
  });

  it('explains the second model’s own prediction by default, or the first model’s classes', async () => {
    const own = await dataRandomisation.run({ model, input, secondModel: permuted, explainer: gradient });
    const out = await permuted.forward(input);
    const top = Array.from({ length: 4 }, (_, i) => {
      const row = Array.from(out.data.subarray(i * 5, (i + 1) * 5));
      return row.indexOf(Math.max(...row));
    });
    expect(own.perItem['second-target']).toEqual(top);
    const same = await dataRandomisation.run(
      { model, input, secondModel: permuted, explainer: gradient },
      { secondTarget: 'same' },
    );
    expect(same.perItem['second-target']).toEqual(same.targets);
  });

  it('needs a second model of the same input and classes', async () => {
    await expect(dataRandomisation.run({ model, input, explainer: gradient })).rejects.toThrow(/secondModel/);
  });
});
