import { fromFunction, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { ssrSaliency } from './ssr-saliency.js';

// A two-class model on 1×16×16 images: class 0's logit grows with the mean brightness, class 1's
// is fixed. Cropping to a bright object and resizing it to the whole image raises class 0.
const model = fromFunction(
  (x: Tensor) => {
    const n = x.shape[0];
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < 256; p++) s += x.data[i * 256 + p];
      out[i * 2] = 8 * (s / 256);
      out[i * 2 + 1] = 2;
    }
    return out;
  },
  { inputShape: [1, 16, 16], layout: 'NCHW', numClasses: 2 },
);

describe('ssr-saliency', () => {
  // A bright 4×4 object at [4, 4, 8, 8) on a dark image.
  const image = new Float32Array(256);
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) image[y * 16 + x] = 1;
  const input = { data: image, shape: [1, 1, 16, 16] };
  const tight = { data: image.slice(), shape: [1, 16, 16] };
  const whole = { data: new Float32Array(256).fill(1), shape: [1, 16, 16] };

  it('prefers a tight correct box to the whole image', async () => {
    const a = await ssrSaliency.evaluate({ model, input, target: 0, maps: tight });
    const b = await ssrSaliency.evaluate({ model, input, target: 0, maps: whole });
    expect(a.scores[0]).toBeLessThan(b.scores[0]);
    expect(a.extras.area[0]).toBeCloseTo(16 / 256, 12);
    expect(b.extras.area[0]).toBe(1);
    // s = log(max(a, 0.05)) − log p, p the softmax probability of the target on the crop.
    const p = a.extras.probability[0];
    expect(a.scores[0]).toBeCloseTo(Math.log(16 / 256) - Math.log(p), 10);
    expect(p).toBeCloseTo(1 / (1 + Math.exp(2 - 8)), 4);
  });

  it('floors the area at 0.05 (the paper’s ã)', async () => {
    const dot = new Float32Array(256);
    dot[5 * 16 + 5] = 1;
    const got = await ssrSaliency.evaluate({
      model,
      input,
      target: 0,
      maps: { data: dot, shape: [1, 16, 16] },
    });
    expect(got.scores[0]).toBeCloseTo(Math.log(0.05) - Math.log(got.extras.probability[0]), 10);
  });

  it('needs class targets', async () => {
    await expect(
      ssrSaliency.evaluate({
        model,
        input,
        target: { cotangent: { data: Float32Array.from([1, 0]), shape: [1, 2] } },
        maps: tight,
      }),
    ).rejects.toMatchObject({ code: 'invalid-target' });
  });
});
