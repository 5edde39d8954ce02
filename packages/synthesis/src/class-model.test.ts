import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { constant, correlation, ringTemplate, templateNet } from '../test/toys.js';
import { classModel } from './class-model.js';

describe('class-model', () => {
  const template = ringTemplate(8, 8);
  // Class 0 scores ⟨t, x⟩ + b, class 1 scores −⟨t, x⟩ − b.
  const model = referenceModel(templateNet(template, 1, 8, 8));

  it('is arg max S_c(x) − λ‖x‖²: t / 2λ for class 0, −t / 2λ for class 1', async () => {
    const r = await classModel.explain(model, constant(2, [1, 8, 8], 0), [0, 1], {
      l2: 0.25,
      steps: 300,
      learningRate: 0.05,
    });
    for (let p = 0; p < 64; p++) {
      expect(r.map.data[p]).toBeCloseTo(2 * template[p], 1);
      expect(r.map.data[64 + p]).toBeCloseTo(-2 * template[p], 1);
    }
    // S_0 at the optimum: ⟨t, 2t⟩ + 0.1 = 2·64 + 0.1.
    expect((r.extras.objective as number[])[0]).toBeCloseTo(128.1, 0);
  });

  it('stays in the input range and starts from the mean image with init input', async () => {
    const bounded = referenceModel(templateNet(template, 1, 8, 8), { inputRange: [0, 1] });
    const mean = constant(1, [1, 8, 8], 0.3);
    const r = await classModel.explain(bounded, mean, 0, { init: 'input', l2: 0.01, steps: 50 });
    expect(r.map.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(correlation(r.map.data, template)).toBeGreaterThan(0.9);
    const still = await classModel.explain(bounded, mean, 0, { init: 'input', learningRate: 0, steps: 1 });
    expect(still.map.data).toEqual(mean.data);
  });
});
