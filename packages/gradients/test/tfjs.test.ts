// Integration: every method on the tfjs backend (WASM) agrees with the same method on core's
// float64 reference model of the same toy net, and leaves no tfjs tensors behind.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildToyModel } from '@xlens/backend-tfjs/testing';
import type { Model } from '@xlens/core';
import { cnnWithBatchNorm, referenceModel, tinyCnn } from '@xlens/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientMethods } from '../src/index.js';
import { maxAbs, maxAbsDiff, randomTensor } from './fixtures.js';

const small: Record<string, unknown> = { steps: 8, samples: 3, models: 2, segmentationSize: 0 };

describe.each([tinyCnn(), cnnWithBatchNorm()])('on tfjs: $name', (spec) => {
  let model: Model;
  const reference = referenceModel(spec, { layout: 'NHWC', inputRange: [-1, 1] });
  const [c, h, w] = spec.inputShape;
  const x = randomTensor([2, h, w, c], 131);

  beforeAll(async () => {
    await initTfjsBackend('wasm');
    model = fromTfjs(buildToyModel(spec), { inputRange: [-1, 1] });
  });
  afterAll(async () => {
    await model.dispose();
  });

  for (const method of gradientMethods) {
    it(`${method.id} matches the reference model and leaks no tensors`, async () => {
      const options = Object.fromEntries(Object.entries(small).filter(([k]) => k in method.options));
      const before = tf.memory().numTensors;
      const got = await method.explain(model, x, [0, 1], { ...options, seed: 3 });
      expect(tf.memory().numTensors).toBe(before);
      const want = await method.explain(reference, x, [0, 1], { ...options, seed: 3 });
      expect(got.map.shape).toEqual(want.map.shape);
      expect(got.warnings).toEqual(want.warnings);
      expect(maxAbsDiff(got.map, want.map)).toBeLessThan(1e-3 * Math.max(1, maxAbs(want.map)));
    });
  }
});
