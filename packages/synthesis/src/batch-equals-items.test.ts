import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf } from '../test/toys.js';
import { synthesisMethods } from './index.js';

/** Per method, options that keep it short and exercise its randomness (transforms, noise start). */
const quick: Record<string, Record<string, unknown>> = {
  'activation-maximisation': { steps: 6, snapshotEvery: 3, objective: 'target - 0.5*channel:conv2:1' },
  'class-model': { steps: 6, init: 'noise' },
  inversion: { steps: 6, layer: 'conv1', jitter: 1 },
};

describe('a batch gives every item the image it gets alone (ADR 0003)', () => {
  const model = referenceModel(tinyCnn(), { inputRange: [0, 1], layout: 'NHWC' });
  const x = {
    data: Float32Array.from({ length: 3 * 8 * 8 * 3 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 1.7)),
    shape: [3, 8, 8, 3],
  };
  for (const method of synthesisMethods) {
    it(method.id, async () => {
      expect(quick[method.id], `quick options for ${method.id}`).toBeDefined();
      const targets = [2, 0, 4];
      const batch = await method.explain(model, x, targets, { ...quick[method.id], batchSize: 2, seed: 3 });
      for (let i = 0; i < 3; i++) {
        const alone = await method.explain(model, itemOf(x, i), targets[i], { ...quick[method.id], seed: 3 });
        expect(Array.from(itemOf(batch.map, i).data)).toEqual(Array.from(alone.map.data));
        expect((batch.extras.objective as number[])[i]).toBe((alone.extras.objective as number[])[0]);
      }
    });
  }
});
