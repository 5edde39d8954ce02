import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, maxAbsDiff, randomTensor, twoLayerSpec } from '../test/fixtures.js';
import { deconvnet } from './deconvnet.js';

describe('deconvnet', () => {
  it('equals the hand-computed value on a 2-layer net', async () => {
    // Class 0 sends g = [2, 3, −1] to the hidden ReLUs; DeconvNet passes relu(g) = [2, 3, 0]
    // whatever the forward input → W1ᵀ[2, 3, 0] = [2 − 3, 4 + 3] = [−1, 7].
    const model = referenceModel(twoLayerSpec());
    const x = { data: Float32Array.from([1, 0.25]), shape: [1, 2, 1, 1] };
    expect([...(await deconvnet.explain(model, x, 0)).map.data]).toEqual([-1, 7]);
    // Class 1 sends [1, 1, 1]: all positive, so W1ᵀ[1, 1, 1] = [0.5, 2] even though unit 1 is off.
    expect([...(await deconvnet.explain(model, x, 1)).map.data]).toEqual([0.5, 2]);
  });

  it('does a batch as its items one by one', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomTensor([2, 3, 8, 8], 51);
    const batch = await deconvnet.explain(model, x, [4, 0]);
    expect(maxAbsDiff(itemOf(batch.map, 1), (await deconvnet.explain(model, itemOf(x, 1), 0)).map)).toBe(0);
  });
});
