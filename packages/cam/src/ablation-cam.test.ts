import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf } from '../test/fixtures.js';
import { ablationCam } from './ablation-cam.js';

describe('ablation-cam', () => {
  const spec = tinyCnn();
  const model = referenceModel(spec);
  const fc = spec.layers.at(-1)!;
  const weight = fc.type === 'dense' ? fc.weight : [];

  it('before GAP→dense, weights channel k by W_ck·mean(A^k)/|y| (the exact score drop)', async () => {
    const x = randomInput(model, 2, 71);
    const targets = [3, 0];
    const { output, activations } = await model.capture!(x, ['relu2']);
    const a = activations.relu2;
    const expected = new Float32Array(2 * 16);
    let zero = 0;
    for (let b = 0; b < 2; b++) {
      const y = output.data[b * 5 + targets[b]];
      for (let k = 0; k < 6; k++) {
        const plane = a.data.subarray((b * 6 + k) * 16, (b * 6 + k + 1) * 16);
        if (plane.every((v) => v === 0)) zero++;
        const mean = plane.reduce((s, v) => s + v, 0) / 16;
        const w = (weight[targets[b] * 6 + k] * mean) / Math.abs(y);
        for (let p = 0; p < 16; p++) expected[b * 16 + p] += w * plane[p];
      }
    }
    const r = await ablationCam.explain(model, x, targets, { relu: false, upsample: false, batchSize: 4 });
    assertClose('exact drop', r.map, tensor(expected, [2, 4, 4]), 1e-4);
    expect((r.extras.zeroChannels as number[]).reduce((s, v) => s + v, 0)).toBe(zero);
    const alone = await ablationCam.explain(model, itemOf(x, 1), 0, { relu: false, upsample: false });
    assertClose('item 1 alone', itemOf(r.map, 1), alone.map, 1e-6);
  });

  it('batches its ablations by batchSize and reports progress', async () => {
    const x = randomInput(model, 1, 72);
    const sizes: number[] = [];
    const spy = {
      ...model,
      forwardScaled: (t: typeof x, s: Parameters<NonNullable<typeof model.forwardScaled>>[1]) => {
        sizes.push(t.shape[0]);
        return model.forwardScaled!(t, s);
      },
    };
    let last = 0;
    const r = await ablationCam.explain(spy, x, 1, {
      layer: 'conv1',
      batchSize: 3,
      onProgress: (p) => {
        last = p.done;
      },
    });
    const live = 4 - (r.extras.zeroChannels as number[])[0];
    expect(sizes.reduce((s, v) => s + v, 0)).toBe(live);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(last).toBe(live);
  });

  it('needs the forward-scaled capability and says so before compute', async () => {
    const { forwardScaled: _dropped, ...plain } = model;
    await expect(ablationCam.explain(plain, randomInput(model, 1, 1), 0)).rejects.toThrow(
      /needs forward-scaled/,
    );
  });
});
