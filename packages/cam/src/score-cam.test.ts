import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, scoreInput, scoreNet } from '../test/fixtures.js';
import { scoreCam } from './score-cam.js';

describe('score-cam', () => {
  it('matches hand-computed scores on a toy net; the constant channel gets weight 0, no NaN', async () => {
    // scoreNet, x = [[1, 2], [3, 4]]: A⁰ = x, A¹ = 0.7 (constant, skipped), A² = 5 − x.
    // Class-0 score of an input z: y(z) = mean(relu z) + 0.35 − mean(relu(5 − z)).
    const y = (z: number[]) =>
      z.reduce((s, v) => s + Math.max(v, 0), 0) / 4 +
      0.35 -
      z.reduce((s, v) => s + Math.max(5 - v, 0), 0) / 4;
    // Masks (same 2×2 grid, so no resize): min–max of A⁰ is [0, 1/3, 2/3, 1]; of A² [1, 2/3, 1/3, 0].
    const s0 = y([0, 2 / 3, 2, 4]);
    const s2 = y([1, 4 / 3, 1, 0]);
    const w0 = 1 / (1 + Math.exp(s2 - s0));
    const w2 = 1 - w0;
    const expected = [1, 2, 3, 4].map((v) => w0 * v + w2 * (5 - v));
    const model = referenceModel(scoreNet());
    const a = await scoreCam.explain(model, scoreInput, 0);
    assertClose('hand', a.map, tensor(expected, [1, 2, 2]), 1e-5);
    expect(a.extras.constantChannels).toEqual([1]);
    expect(a.map.data.every(Number.isFinite)).toBe(true);
  });

  it('batches its forwards, reports progress, and gives the same maps for any batch size', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 51);
    const calls: number[] = [];
    const counting = {
      ...model,
      forward: (t: typeof x) => {
        calls.push(t.shape[0]);
        return model.forward(t);
      },
    };
    const progress: number[] = [];
    const a = await scoreCam.explain(counting, x, [1, 4], {
      layer: 'relu2',
      batchSize: 5,
      onProgress: (p) => progress.push(p.done),
    });
    expect(Math.max(...calls)).toBeLessThanOrEqual(5);
    const masked = 12 - (a.extras.constantChannels as number[]).reduce((s, v) => s + v, 0);
    expect(calls.reduce((s, v) => s + v, 0)).toBe(masked);
    expect(progress.at(-1)).toBe(masked);
    const b = await scoreCam.explain(model, x, [1, 4], { layer: 'relu2', batchSize: 64 });
    assertClose('batch size', b.map, a.map, 1e-6);
    const alone = await scoreCam.explain(model, itemOf(x, 1), 4, { layer: 'relu2' });
    assertClose('item 1 alone', itemOf(a.map, 1), alone.map, 1e-6);
  });

  it('reads the score kind of the run', async () => {
    const model = referenceModel(scoreNet());
    const logit = await scoreCam.explain(model, scoreInput, 0, { relu: false });
    const soft = await scoreCam.explain(model, scoreInput, 0, { relu: false, score: 'softmax' });
    const diff = soft.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - logit.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-3);
  });
});
