// Integration: every relevance method on the tfjs backend (WASM) gives the same map as on core's
// float64 reference model of the same toy nets, with the same composites, and leaks no tensors.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildToyModel } from '@xlens/backend-tfjs/testing';
import { biasFreeCnn, cnnWithBatchNorm, tinyCnn } from '@xlens/core/testing';
import { expect } from 'vitest';
import { describeSameMaps } from './same-maps.js';

describeSameMaps(
  {
    name: 'tfjs',
    layout: 'NHWC',
    async open(spec) {
      await initTfjsBackend('wasm');
      return fromTfjs(buildToyModel(spec), { inputRange: [-1, 1] });
    },
    around() {
      const before = tf.memory().numTensors;
      return () => expect(tf.memory().numTensors, 'leaked tfjs tensors').toBe(before);
    },
    // Known backend gap: for a dense layer behind a Flatten of a channels-last tensor, the tfjs
    // backend captures the Flatten in channels-first order but hands out (and reads pattern rules
    // for) the dense weight in its own channels-last input order, so a pattern fitted from captures
    // does not line up with that weight. Such layers are left out until the layouts agree.
    patternGap: (spec) =>
      spec.layers.flatMap((l, i) =>
        l.type === 'dense' && spec.layers[i - 1]?.type === 'flatten' ? [l.name] : [],
      ),
  },
  [tinyCnn(), cnnWithBatchNorm(), biasFreeCnn()],
);
