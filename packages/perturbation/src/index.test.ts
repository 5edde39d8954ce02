import { fromFunction, Registry, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { perturbationMethods } from './index.js';

/** Methods that learn a mask by gradient descent; real-time saliency needs its masking model. */
const gradientMethods = ['meaningful-perturbation', 'extremal-perturbation', 'fgvis'];
const blackBoxMethods = perturbationMethods.filter(
  (m) => !gradientMethods.includes(m.id) && m.id !== 'real-time-saliency',
);

describe('perturbationMethods', () => {
  it('lists every method once, kebab-case, family perturbation, with a dated citation', () => {
    const registry = new Registry(perturbationMethods);
    expect(registry.list('perturbation').map((m) => m.id)).toEqual([
      'occlusion',
      'rise',
      'lime',
      'kernel-shap',
      'prediction-difference',
      'meaningful-perturbation',
      'extremal-perturbation',
      'fgvis',
      'real-time-saliency',
    ]);
    for (const m of perturbationMethods) {
      // Forward only, except the mask optimisations, which descend on the input gradient.
      expect(m.requires).toEqual(gradientMethods.includes(m.id) ? ['gradients'] : []);
      expect(m.citation).toMatch(/(19|20)\d\d.*arXiv:\d{4}\.\d{4,5}/);
    }
  });

  it('every method runs with its defaults on a black box (fromFunction over plain JS)', async () => {
    // Class k of a 3×16×16 image scores tanh of a weighted sum of its k-th quarter, nothing else.
    const model = fromFunction(
      (x: Tensor) => {
        const n = x.shape[0];
        const out = new Float32Array(n * 4);
        for (let i = 0; i < n; i++)
          for (let e = 0; e < 768; e++) {
            const k = Math.floor((e % 256) / 64);
            out[i * 4 + k] += Math.tanh(x.data[i * 768 + e] * ((e % 7) - 3)) / 64;
          }
        return out;
      },
      { inputShape: [3, 16, 16], layout: 'NCHW', numClasses: 4, inputRange: [0, 1] },
    );
    const x: Tensor = { data: new Float32Array(768).map((_, e) => (e % 13) / 13), shape: [1, 3, 16, 16] };
    for (const method of blackBoxMethods) {
      const a = await method.explain(model, x, 2, { batchSize: 64 });
      expect(a.map.shape, method.id).toEqual([1, 16, 16]);
      expect(a.map.data.every(Number.isFinite), method.id).toBe(true);
      expect(
        a.map.data.some((v) => v !== 0),
        method.id,
      ).toBe(true);
    }
  });
});
