import { biasFreeCnn, referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { at, expectClose, randomInput, sums } from '../test/fixtures.js';
import { lrp } from './lrp.js';
import { sglrp } from './sglrp.js';

describe('sglrp', () => {
  const model = referenceModel(biasFreeCnn());
  const x = randomInput(model, 2, 31, 0, 1);
  const lrp0 = { composite: 'epsilon', epsilon: 0 } as const;

  it('starts from the softmax gradient: a probability-weighted contrast of the class maps', async () => {
    const out = await model.forward(x);
    const k = 4;
    const targets = [2, 0];
    const a = await sglrp.explain(model, x, targets, lrp0);
    expect(a.map.shape).toEqual(x.shape);
    const perClass = await Promise.all(Array.from({ length: k }, (_, c) => lrp.explain(model, x, c, lrp0)));
    const m = a.map.data.length / 2;
    for (let i = 0; i < 2; i++) {
      const z = Array.from({ length: k }, (_, c) => at(out, i, c));
      const e = z.map((v) => Math.exp(v));
      const p = e.map((v) => v / e.reduce((s, w) => s + w, 0));
      const t = targets[i];
      // ∂p_t/∂z_c = p_t(δ_tc − p_c); class c's map carries z_c, rescaled to carry that.
      const expected = new Float32Array(m);
      for (let c = 0; c < k; c++) {
        const w = (p[t] * ((c === t ? 1 : 0) - p[c])) / z[c];
        for (let j = 0; j < m; j++) expected[j] += w * perClass[c].map.data[i * m + j];
      }
      expectClose(a.map.data.subarray(i * m, (i + 1) * m), expected, 1e-4);
    }
    // The softmax gradient sums to 0 over the classes; conservative rules keep that sum.
    for (const s of sums(a.map)) expect(Math.abs(s)).toBeLessThan(1e-5);
    for (const s of a.extras.outputRelevance as number[]) expect(Math.abs(s)).toBeLessThan(1e-6);
  });

  it('clamps when asked', async () => {
    const a = await sglrp.explain(model, x, 1, { ...lrp0, clamp: true });
    expect(Math.min(...a.map.data)).toBeGreaterThanOrEqual(0);
  });
});
