import { biasFreeCnn, referenceModel, tinyDense } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { at, expectClose, randomInput, sums } from '../test/fixtures.js';
import { deepTaylor } from './deep-taylor.js';
import { lrp } from './lrp.js';

describe('deep-taylor', () => {
  it('is z⁺ inside and z^B at the input, conservative on a bias-free net', async () => {
    const model = referenceModel(biasFreeCnn(), { inputRange: [0, 1] });
    const x = randomInput(model, 2, 41, 0, 1);
    const a = await deepTaylor.explain(model, x, [0, 3]);
    const b = await lrp.explain(model, x, [0, 3], {
      rules: { conv1: 'z-box:0:1', conv2: 'z-plus', fc: 'z-plus' },
    });
    expectClose(a.map.data, b.map.data, 1e-6);
    const out = await model.forward(x);
    const s = sums(a.map);
    // Conservative where the target logit is positive (z⁺ denominators are then non-zero).
    // Positive logit: every share is non-negative and they sum to the logit.
    const m = a.map.data.length / 2;
    let checked = 0;
    for (const [i, c] of [
      [0, 0],
      [1, 3],
    ]) {
      if (at(out, i, c) <= 0) continue;
      checked++;
      expect(s[i]).toBeCloseTo(at(out, i, c), 4);
      expect(Math.min(...a.map.data.subarray(i * m, (i + 1) * m))).toBeGreaterThanOrEqual(-1e-6);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('uses w² at the input for unbounded inputs, and needs bounds for the box', async () => {
    const model = referenceModel(tinyDense());
    const x = randomInput(model, 1, 42);
    const a = await deepTaylor.explain(model, x, 1, { inputRule: 'w-square' });
    const b = await lrp.explain(model, x, 1, { rules: { fc1: 'w-square', fc2: 'z-plus' } });
    expectClose(a.map.data, b.map.data, 1e-6);
    await expect(deepTaylor.explain(model, x, 1)).rejects.toMatchObject({ code: 'invalid-option' });
    const withBounds = await deepTaylor.explain(model, x, 1, { low: -1, high: 1 });
    expect(withBounds.map.shape).toEqual(x.shape);
  });
});
