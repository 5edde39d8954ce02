import * as tf from '@tensorflow/tfjs';
import { conformanceCases, referenceModel } from '@xlens/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromTfjs } from '../src/from-tfjs.js';
import { buildToyModel } from '../src/testing/toy.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);

/** Every core conformance case against the reference model, on wasm, without tensor leaks. */
describe('core conformance cases (wasm)', () => {
  for (const c of conformanceCases()) {
    it(c.name, async () => {
      const before = tf.memory().numTensors;
      const model = fromTfjs(buildToyModel(c.spec));
      try {
        await c.check(model, referenceModel(c.spec, { layout: 'NHWC' }));
      } finally {
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
