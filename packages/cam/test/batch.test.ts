// Every method explains all N items of a batch with N targets, each exactly as if run alone
// (CCAM excepted: its group is the batch by definition).
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { camMethods } from '../src/index.js';
import { itemOf, maxAbs } from './fixtures.js';

describe('batch of N with N targets', () => {
  const model = referenceModel(tinyCnn());
  const x = randomInput(model, 3, 161);
  const targets = [4, 0, 2];
  const options: Record<string, Record<string, unknown>> = {
    'smooth-grad-cam-plus-plus': { noise: 0, samples: 2 },
    clear: { classes: 3 },
  };

  for (const method of camMethods.filter((m) => m.id !== 'ccam')) {
    it(`${method.id}: each item equals its single-item run`, async () => {
      const opts = { relu: false, batchSize: 2, ...options[method.id] };
      const batch = await method.explain(model, x, targets, opts);
      expect(batch.map.shape[0]).toBe(3);
      for (let i = 0; i < 3; i++) {
        const alone = await method.explain(model, itemOf(x, i), targets[i], opts);
        const got = itemOf(batch.map, i);
        const diff = got.data.reduce((m, v, j) => Math.max(m, Math.abs(v - alone.map.data[j])), 0);
        expect(diff).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(alone.map)));
        expect(maxAbs(got)).toBeGreaterThan(0);
      }
    });
  }
});
