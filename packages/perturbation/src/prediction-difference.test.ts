import type { Tensor } from '@xlens/core';
import { randomInput } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { linearModel, randomWeights } from '../test/models.js';
import { occlusion } from './occlusion.js';
import { predictionDifference } from './prediction-difference.js';

/** `count` images of shape `[c, h, w]` (NCHW), each one constant per channel from a seeded draw. */
function constantImages(count: number, c: number, h: number, w: number): Tensor {
  const data = new Float32Array(count * c * h * w);
  for (let j = 0; j < count; j++)
    for (let ch = 0; ch < c; ch++)
      data.fill(Math.abs(Math.sin(3.1 * j + ch)), (j * c + ch) * h * w, (j * c + ch + 1) * h * w);
  return { data, shape: [count, c, h, w] };
}

describe('prediction-difference', () => {
  // The model ignores columns 0–4 of a 2×8×10 image.
  const weights = randomWeights(3, 2 * 8 * 10, 9).map((w) => w.map((v, e) => (e % 10 < 5 ? 0 : v)));
  const model = linearModel([2, 8, 10], weights, [0.1, 0.2, -0.1]);
  const x = randomInput(model, 2, 10, 0, 1);
  const data = randomInput(model, 6, 11, 0, 1);

  it('is zero for pixels the model ignores, with every sampling and measure', async () => {
    for (const options of [
      { sampling: 'marginal' },
      { sampling: 'marginal', data },
      { sampling: 'conditional', data, padding: 1 },
      { sampling: 'marginal', measure: 'score' },
    ] as const) {
      const a = await predictionDifference.explain(model, x, [0, 2], {
        window: 2,
        stride: 1,
        samples: 4,
        ...options,
      });
      for (let i = 0; i < 2; i++)
        for (let y = 0; y < 8; y++)
          for (let col = 0; col < 10; col++) {
            const v = a.map.data[(i * 8 + y) * 10 + col];
            // Windows 2 wide covering columns ≤ 3 lie inside the ignored columns 0–4.
            if (col <= 3) expect(v, `${JSON.stringify(options.sampling)} (${i}, ${y}, ${col})`).toBe(0);
            if (col >= 6) expect(v).not.toBe(0);
          }
    }
  });

  it('with one data image and the score measure, marginal sampling is occlusion filled with that image', async () => {
    const one: Tensor = { data: data.data.slice(0, 160), shape: [1, 2, 8, 10] };
    const pda = await predictionDifference.explain(model, x, 1, {
      window: 3,
      stride: 2,
      samples: 3,
      data: one,
      measure: 'score',
    });
    const occ = await occlusion.explain(model, x, 1, { window: 3, stride: 2, fill: one });
    for (let e = 0; e < occ.map.data.length; e++) expect(pda.map.data[e]).toBeCloseTo(occ.map.data[e], 5);
  });

  it('conditional sampling predicts a window from its frame: no difference where the frame gives the window away', async () => {
    // Data images are constant, so a window is certainly the value of its frame; the item is
    // constant too, so every conditional draw restores it, while marginal draws change it.
    const flat = linearModel(
      [1, 8, 8],
      randomWeights(2, 64, 3).map((w) => w.map(Math.abs)),
    );
    const item: Tensor = { data: new Float32Array(64).fill(0.7), shape: [1, 1, 8, 8] };
    const options = {
      window: 2,
      stride: 2,
      samples: 5,
      data: constantImages(20, 1, 8, 8),
      measure: 'score',
    } as const;
    const conditional = await predictionDifference.explain(flat, item, 0, {
      ...options,
      sampling: 'conditional',
    });
    const marginal = await predictionDifference.explain(flat, item, 0, { ...options, sampling: 'marginal' });
    expect(Math.max(...conditional.map.data.map(Math.abs))).toBeLessThan(1e-3);
    expect(Math.max(...marginal.map.data.map(Math.abs))).toBeGreaterThan(0.05);
  });

  it('measures weight of evidence in log₂ odds of the softmax probability', async () => {
    const a = await predictionDifference.explain(model, x, [0, 2], {
      window: 4,
      stride: 4,
      samples: 2,
      data,
    });
    const b = await predictionDifference.explain(model, x, [0, 2], {
      window: 4,
      stride: 4,
      samples: 2,
      data,
      measure: 'score',
      score: 'softmax',
    });
    // Where the probability drops, its weight of evidence drops too (same sign, larger size).
    for (let e = 0; e < a.map.data.length; e++)
      if (b.map.data[e] !== 0) expect(Math.sign(a.map.data[e])).toBe(Math.sign(b.map.data[e]));
  });

  it('validates before compute', async () => {
    await expect(
      predictionDifference.explain(model, x, 0, { sampling: 'conditional', window: 2 }),
    ).rejects.toThrow(/needs data/);
    await expect(
      predictionDifference.explain(model, x, 0, { sampling: 'conditional', window: 6, padding: 2, data }),
    ).rejects.toThrow(/10×10.*8×10/);
    await expect(
      predictionDifference.explain(model, x, 0, {
        window: 2,
        data: { data: new Float32Array(10), shape: [1, 10] },
      }),
    ).rejects.toThrow(/data has shape \[1, 10\]/);
    await expect(
      predictionDifference.explain(model, x, 0, { window: 2, sampling: 'gibbs' as never }),
    ).rejects.toThrow(/gibbs/);
  });
});
