import { tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { fromOnnx, setupMilliseconds } from '../src/index.js';
import { toyOnnx } from '../src/testing/index.js';

describe('setupMilliseconds', () => {
  it('grows when a new session is built and not when one is reused', async () => {
    const model = await fromOnnx(toyOnnx(tinyCnn()));
    const x = { data: new Float32Array(2 * 3 * 8 * 8).fill(0.5), shape: [2, 3, 8, 8] };
    const k = model.info.numClasses;
    const seed = {
      kind: 'output' as const,
      cotangent: { data: new Float32Array(2 * k).fill(1), shape: [2, k] },
    };
    const afterLoad = setupMilliseconds(model);
    await model.backward!({ input: x, seed });
    const afterFirst = setupMilliseconds(model);
    expect(afterFirst).toBeGreaterThan(afterLoad);
    await model.backward!({ input: x, seed });
    expect(setupMilliseconds(model)).toBe(afterFirst);
    await model.dispose();
  });

  it('is 0 for models of other backends', async () => {
    const { referenceModel } = await import('@xlens/core/testing');
    expect(setupMilliseconds(referenceModel(tinyCnn()))).toBe(0);
  });
});
