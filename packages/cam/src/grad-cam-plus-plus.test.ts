import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet } from '../test/fixtures.js';
import { gradCamPlusPlus, gradCamPlusPlusWeights } from './grad-cam-plus-plus.js';

describe('grad-cam-plus-plus', () => {
  it('matches the hand-computed closed form on a toy net, with no NaN from a zero channel', async () => {
    // Channel 0: ΣA⁰ = 10, g = .5 on the anti-diagonal: α = .25/(2·.25 + 10·.125) = 1/7 there,
    // w⁰ = 2·(1/7)·.5 = 1/7. Channel 1: ReLU(g¹) = 0 → w¹ = 0. Channel 2: A² = 0, g² = 0, so every
    // denominator is 0 → α = 0, w² = 0. M = A⁰/7.
    const model = referenceModel(handNet());
    const a = await gradCamPlusPlus.explain(model, handInput, 0, { layer: 'feat', upsample: false });
    assertClose('hand', a.map, tensor([1 / 7, 2 / 7, 3 / 7, 4 / 7], [1, 2, 2]));
    expect(a.map.data.every(Number.isFinite)).toBe(true);
  });

  it('guards zero denominators in the weights', () => {
    const zero = tensor([0, 0, 0, 0], [1, 1, 2, 2]);
    const g = tensor([1, -1, 0, 2], [1, 1, 2, 2]);
    // ΣA = 0: α = g²/(2g²) = 1/2 where g ≠ 0, so w = ½·(1 + 2) = 1.5; and a zero gradient → w = 0.
    expect(
      Array.from(
        gradCamPlusPlusWeights(
          zero,
          g,
          tensor([1, 1, 0, 4], [1, 1, 2, 2]),
          tensor([1, -1, 0, 8], [1, 1, 2, 2]),
        ),
      ),
    ).toEqual([1.5]);
    expect(Array.from(gradCamPlusPlusWeights(zero, zero, zero, zero))).toEqual([0]);
  });

  it('explains a batch with one target per item like single runs', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 31);
    const both = await gradCamPlusPlus.explain(model, x, [1, 2], { layer: 'conv1', batchSize: 1 });
    const first = await gradCamPlusPlus.explain(
      model,
      { data: x.data.slice(0, 192), shape: [1, 3, 8, 8] },
      1,
      { layer: 'conv1' },
    );
    const second = await gradCamPlusPlus.explain(model, { data: x.data.slice(192), shape: [1, 3, 8, 8] }, 2, {
      layer: 'conv1',
    });
    assertClose('item 0', { data: both.map.data.slice(0, 64), shape: [1, 8, 8] }, first.map, 1e-6);
    assertClose('item 1', { data: both.map.data.slice(64), shape: [1, 8, 8] }, second.map, 1e-6);
  });
});
