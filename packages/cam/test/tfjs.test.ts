// Integration: every CAM method on the tfjs backend (WASM) agrees with the same method on core's
// float64 reference model of the same toy nets, and leaves no tfjs tensors behind.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildToyModel } from '@xlens/backend-tfjs/testing';
import type { Extras, Model } from '@xlens/core';
import { cnnWithBatchNorm, randomTensor, referenceModel, tinyCnn } from '@xlens/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camMethods } from '../src/index.js';
import { maxAbs } from './fixtures.js';

const small: Record<string, unknown> = { samples: 3, classes: 3, components: 2 };

describe.each([tinyCnn(), cnnWithBatchNorm()])('on tfjs: $name', (spec) => {
  let model: Model;
  const reference = referenceModel(spec, { layout: 'NHWC' });
  const [c, h, w] = spec.inputShape;
  const x = randomTensor([2, h, w, c], 141);

  beforeAll(async () => {
    await initTfjsBackend('wasm');
    model = fromTfjs(buildToyModel(spec));
  });
  afterAll(async () => {
    await model.dispose();
  });

  for (const method of camMethods) {
    it(`${method.id} matches the reference model and leaks no tensors`, async () => {
      const options = Object.fromEntries(Object.entries(small).filter(([k]) => k in method.options));
      const before = tf.memory().numTensors;
      const got = await method.explain(model, x, [0, 1], { ...options, seed: 5, batchSize: 4 });
      expect(tf.memory().numTensors).toBe(before);
      const want = await method.explain(reference, x, [0, 1], { ...options, seed: 5, batchSize: 4 });
      expect(got.map.shape).toEqual(want.map.shape);
      const diff = got.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.map.data[i])), 0);
      expect(diff).toBeLessThan(1e-3 * Math.max(1, maxAbs(want.map)));
      // The loop's method type is the union of all CAMs; any one's extras are an `Extras` record.
      const gotExtras: Extras = got.extras;
      const wantExtras: Extras = want.extras;
      if (method.id === 'clear') expect(gotExtras.candidateClasses).toEqual(wantExtras.candidateClasses);
    });
  }
});
