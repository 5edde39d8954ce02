// Integration: every CAM method on the ONNX Runtime backend agrees with the same method on core's
// float64 reference model of the same toy nets (the ONNX graph is written by `toyOnnx`).
import { fromOnnx } from '@xlens/backend-onnx';
import { toyOnnx } from '@xlens/backend-onnx/testing';
import type { Model } from '@xlens/core';
import { cnnWithBatchNorm, randomTensor, referenceModel, tinyCnn } from '@xlens/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camMethods } from '../src/index.js';
import { maxAbs } from './fixtures.js';

const small: Record<string, unknown> = { samples: 3, classes: 3, components: 2 };

describe.each([tinyCnn(), cnnWithBatchNorm()])('on onnxruntime: $name', (spec) => {
  let model: Model;
  const reference = referenceModel(spec, { layout: 'NCHW' });
  const x = randomTensor([2, ...spec.inputShape], 151);

  beforeAll(async () => {
    model = await fromOnnx(toyOnnx(spec), { name: spec.name, intraOpThreads: 1 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  for (const method of camMethods) {
    it(`${method.id} matches the reference model`, async () => {
      const options = Object.fromEntries(Object.entries(small).filter(([k]) => k in method.options));
      const got = await method.explain(model, x, [0, 1], { ...options, seed: 5, batchSize: 4 });
      const want = await method.explain(reference, x, [0, 1], { ...options, seed: 5, batchSize: 4 });
      expect(got.map.shape).toEqual(want.map.shape);
      const diff = got.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.map.data[i])), 0);
      expect(diff).toBeLessThan(1e-3 * Math.max(1, maxAbs(want.map)));
    });
  }
});
