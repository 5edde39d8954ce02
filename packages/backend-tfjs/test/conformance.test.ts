import * as tf from '@tensorflow/tfjs';
import { conformanceCases, referenceModel } from '@xlens/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromTfjs } from '../src/from-tfjs.js';
import { graphModelTwin } from '../src/testing/graph-twin.js';
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

/**
 * The same cases on the GraphModel path: each toy model written as the GraphDef tfjs-converter
 * makes of it (fused ops, or plain ops with `transpose_b` and kept-dims pooling), loaded as a
 * GraphModel and translated back into layers.
 */
for (const fuse of [true, false]) {
  describe(`core conformance cases on a converted GraphModel (${fuse ? 'fused ops' : 'plain ops'})`, () => {
    for (const c of conformanceCases()) {
      it(c.name, async () => {
        const before = tf.memory().numTensors;
        const keras = buildToyModel(c.spec);
        const artifacts = await graphModelTwin(keras, { fuse });
        keras.dispose();
        const model = fromTfjs(await tf.loadGraphModel(tf.io.fromMemory(artifacts)));
        try {
          await c.check(model, referenceModel(c.spec, { layout: 'NHWC' }));
        } finally {
          model.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
