import { conformanceCases, referenceModel } from '@xlens/core/testing';
import { describe, it } from 'vitest';
import { fromOnnx } from '../src/index.js';
import { toyOnnx } from '../src/testing/index.js';

describe('conformance with the core reference model', () => {
  for (const c of conformanceCases()) {
    it(c.name, async () => {
      const model = await fromOnnx(toyOnnx(c.spec), { name: c.spec.name, intraOpThreads: 1 });
      try {
        await c.check(model, referenceModel(c.spec, { layout: 'NCHW' }));
      } finally {
        await model.dispose();
      }
    });
  }
});
