import { fromFunction, resizeBilinear, type Tensor, XlensError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { linearModel, randomWeights } from '../test/models.js';
import { realTimeSaliency } from './real-time-saliency.js';

// A classifier with 3 classes on 1×8×8 images, and a masker giving class k of item i the 2×2
// grid [k, i, 0.5, 1] (NHWC-flattened: cell q, class k at q·3 + k).
const model = linearModel([1, 8, 8], randomWeights(3, 64, 4));
let maskerCalls = 0;
const masker = fromFunction(
  (x: Tensor) => {
    maskerCalls++;
    const n = x.shape[0];
    const out = new Float32Array(n * 12);
    for (let i = 0; i < n; i++) {
      const first = x.data[i * 64]; // the item's first pixel tells items apart
      for (let k = 0; k < 3; k++) {
        const grid = [k / 2, first, 0.5, 1];
        for (let q = 0; q < 4; q++) out[i * 12 + q * 3 + k] = grid[q];
      }
    }
    return out;
  },
  { ...model.info, name: 'toy-masker', numClasses: 12 },
);
const x: Tensor = {
  data: Float32Array.from({ length: 128 }, (_, e) => (e < 64 ? 0.25 : 0.75)),
  shape: [2, 1, 8, 8],
};

describe('real-time-saliency', () => {
  it('is the target class’s mask, upsampled bilinearly, from one masker pass', async () => {
    maskerCalls = 0;
    const a = await realTimeSaliency.explain(model, x, [2, 1], { masker, batchSize: 8 });
    expect(maskerCalls).toBe(1);
    const expected = (k: number, first: number) =>
      resizeBilinear({ data: Float32Array.from([k / 2, first, 0.5, 1]), shape: [1, 2, 2] }, 8, 8).data;
    expect(Array.from(a.map.data.subarray(0, 64))).toEqual(Array.from(expected(2, 0.25)));
    expect(Array.from(a.map.data.subarray(64))).toEqual(Array.from(expected(1, 0.75)));
    expect(a.extras.maskArea[0]).toBeCloseTo(expected(2, 0.25).reduce((s, v) => s + v, 0) / 64, 6);
    expect(a.options.masker).toBe('toy-masker');
  });

  it('names what is missing or mismatched before any pass', async () => {
    await expect(realTimeSaliency.explain(model, x, 0)).rejects.toThrow(/masker is missing/);
    const wrong = fromFunction(() => new Float32Array(10), { ...model.info, name: 'bad', numClasses: 5 });
    await expect(realTimeSaliency.explain(model, x, 0, { masker: wrong })).rejects.toBeInstanceOf(XlensError);
    await expect(realTimeSaliency.explain(model, x, 0, { masker: wrong })).rejects.toThrow(/s·s·3/);
  });
});
