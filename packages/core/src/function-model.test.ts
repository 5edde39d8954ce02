import { describe, expect, it } from 'vitest';
import { defineExplainer } from './explain.js';
import { fromFunction } from './function-model.js';
import { tensor } from './tensor.js';

const info = { inputShape: [2], layout: 'NCHW', numClasses: 2 } as const;

describe('fromFunction', () => {
  it('wraps a function as a forward-only model', async () => {
    const m = fromFunction((x) => x.data.map((v) => v * 2), { ...info, name: 'double' });
    expect(m.info).toMatchObject({ name: 'double', outputKind: 'logits', numClasses: 2 });
    expect(m.capabilities.size).toBe(0);
    expect(m.backward).toBeUndefined();
    const out = await m.forward(tensor([1, 2, 3, 4], [2, 2]));
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(out.data)).toEqual([2, 4, 6, 8]);
  });
  it('checks the output size and refuses calls after dispose', async () => {
    const m = fromFunction(async () => ({ data: new Float32Array(3), shape: [3] }), info);
    await expect(m.forward(tensor([1, 2], [1, 2]))).rejects.toThrow(
      /returned 3 values for 1 items; expected 1×2/,
    );
    await m.dispose();
    await expect(m.forward(tensor([1, 2], [1, 2]))).rejects.toMatchObject({ code: 'disposed' });
  });
  it('is rejected by a gradient method with a CapabilityError before compute', async () => {
    let ran = false;
    const grad = defineExplainer<object>({
      id: 'needs-gradients',
      family: 'gradients',
      title: 't',
      citation: 'none',
      description: 'd',
      requires: ['gradients'],
      mapKind: 'input',
      defaults: {},
      options: {},
      async attribute(ctx) {
        ran = true;
        return { map: ctx.input };
      },
    });
    const m = fromFunction((x) => x.data, info);
    await expect(grad.explain(m, tensor([1, 2], [1, 2]), 0)).rejects.toMatchObject({
      name: 'CapabilityError',
      code: 'missing-capability',
      message: expect.stringContaining(
        'needs-gradients needs gradients, which function does not offer (it has: forward only)',
      ),
    });
    expect(ran).toBe(false);
  });
});
