import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet } from '../test/fixtures.js';
import { layerCam } from './layer-cam.js';

describe('layer-cam', () => {
  it('matches the hand-computed map of a toy net', async () => {
    // ReLU(g⁰) = [[0, .5], [.5, 0]], ReLU(g¹) = ReLU(g²) = 0: M = [[0, 1], [1.5, 0]].
    const model = referenceModel(handNet());
    const a = await layerCam.explain(model, handInput, 0, { layer: 'feat', upsample: false });
    assertClose('hand', a.map, tensor([0, 1, 1.5, 0], [1, 2, 2]));
  });

  it('weights each channel before GAP by ReLU of its dense weight / (h·w)', async () => {
    // Before GAP the gradient of class c is W_ck/(h·w) at every location, so Layer-CAM there is
    // Σ_k ReLU(W_ck)/(h·w)·A^k: only the channels that raise the class score count.
    const spec = tinyCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 1, 13);
    const fc = spec.layers.at(-1)!;
    const weights = fc.type === 'dense' ? fc.weight.slice(2 * 6, 3 * 6) : [];
    const { activations } = await model.capture!(x, ['relu2']);
    const expected = new Float32Array(16);
    for (let k = 0; k < 6; k++)
      for (let p = 0; p < 16; p++)
        expected[p] += (Math.max(weights[k], 0) / 16) * activations.relu2.data[k * 16 + p];
    expect(weights.some((w) => w < 0) && weights.some((w) => w > 0)).toBe(true);
    const l = await layerCam.explain(model, x, 2, { layer: 'relu2', relu: false, upsample: false });
    assertClose('relu2', l.map, tensor(expected, [1, 4, 4]), 1e-5);
  });
});
