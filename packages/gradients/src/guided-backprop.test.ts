import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { linearCnn, maxAbsDiff, randomTensor, twoLayerSpec } from '../test/fixtures.js';
import { deconvnet } from './deconvnet.js';
import { gradient } from './gradient.js';
import { guidedBackprop } from './guided-backprop.js';

describe('guided-backprop', () => {
  const x = { data: Float32Array.from([1, 0.25]), shape: [1, 2, 1, 1] };

  it('equals the hand-computed value on a 2-layer net', async () => {
    // Class 0 sends g = [2, 3, −1] to the hidden ReLUs (inputs [1.5, −0.75, 0.25]).
    // Guided: [x>0]·[g>0] keeps only unit 0 → W1ᵀ[2, 0, 0] = [2, 4]. Plain gradient keeps units 0
    // and 2 → W1ᵀ[2, 0, −1] = [1.5, 5].
    const model = referenceModel(twoLayerSpec());
    const guided = await guidedBackprop.explain(model, x, 0);
    const plain = await gradient.explain(model, x, 0);
    expect([...guided.map.data]).toEqual([2, 4]);
    expect([...plain.map.data]).toEqual([1.5, 5]);
    expect(guided.mapKind).toBe('input');
  });

  it('equals the gradient on a ReLU-free net', async () => {
    const model = referenceModel(linearCnn());
    const input = randomTensor([2, 2, 4, 4], 41);
    const g = await gradient.explain(model, input, 1);
    const gb = await guidedBackprop.explain(model, input, 1);
    const dc = await deconvnet.explain(model, input, 1);
    expect(maxAbsDiff(g.map, gb.map)).toBeLessThan(1e-6);
    expect(maxAbsDiff(g.map, dc.map)).toBeLessThan(1e-6);
  });
});
