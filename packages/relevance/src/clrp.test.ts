import { biasFreeCnn, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { at, expectClose, randomInput, sums } from '../test/fixtures.js';
import { clrp } from './clrp.js';
import { lrp } from './lrp.js';

describe('clrp', () => {
  const model = referenceModel(biasFreeCnn());
  const x = randomInput(model, 2, 21, 0, 1);
  const lrp0 = { composite: 'epsilon', epsilon: 0 } as const;

  it('is the target map minus the dual map of the other classes sharing the logit', async () => {
    const out = await model.forward(x);
    const k = 4;
    const targets = [1, 3];
    const a = await clrp.explain(model, x, targets, { ...lrp0, clamp: false });
    expect(a.map.shape).toEqual(x.shape);
    const perClass = await Promise.all(Array.from({ length: k }, (_, c) => lrp.explain(model, x, c, lrp0)));
    const m = a.map.data.length / 2;
    const expected = new Float32Array(a.map.data.length);
    for (let i = 0; i < 2; i++) {
      const t = targets[i];
      for (let j = 0; j < m; j++) {
        let v = perClass[t].map.data[i * m + j];
        // Class c's own map carries z_c; scaled to carry z_t / (K − 1).
        for (let c = 0; c < k; c++)
          if (c !== t) v -= (at(out, i, t) / (k - 1) / at(out, i, c)) * perClass[c].map.data[i * m + j];
        expected[i * m + j] = v;
      }
    }
    expectClose(a.map.data, expected, 1e-4);
    // Conservative rules: target and dual both carry z_t, so the contrast sums to 0.
    for (const s of sums(a.map)) expect(Math.abs(s)).toBeLessThan(1e-3);
    expect(a.extras.dualRelevance as number[]).toEqual([
      expect.closeTo(at(out, 0, 1), 3),
      expect.closeTo(at(out, 1, 3), 3),
    ]);
  });

  it('clamps to the positive part by default', async () => {
    const raw = await clrp.explain(model, x, 0, { ...lrp0, clamp: false });
    const a = await clrp.explain(model, x, 0, lrp0);
    expectClose(
      a.map.data,
      raw.map.data.map((v) => Math.max(v, 0)),
      1e-6,
    );
    expect(Math.min(...a.map.data)).toBe(0);
  });

  it('needs class targets and a linear-rules model', async () => {
    const cot = { cotangent: { data: new Float32Array([1, 0, 0, 0]), shape: [1, 4] } };
    await expect(clrp.explain(model, x, cot)).rejects.toMatchObject({ code: 'invalid-target' });
    const noRules = { ...referenceModel(tinyCnn()), capabilities: new Set(['layers', 'gradients'] as const) };
    await expect(clrp.explain(noRules, randomInput(noRules, 1), 0)).rejects.toMatchObject({
      code: 'missing-capability',
    });
  });
});
