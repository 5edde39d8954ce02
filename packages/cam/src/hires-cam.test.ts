import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet, maxAbs } from '../test/fixtures.js';
import { gradCam } from './grad-cam.js';
import { hiResCam } from './hires-cam.js';

describe('hires-cam', () => {
  it('matches the hand-computed map of a toy net', async () => {
    // g⁰ = [[0, .5], [.5, 0]] = −g¹, g² = 0: M = g⁰ ⊙ (A⁰ − A¹) = [[0, 1], [1, 0]].
    const model = referenceModel(handNet());
    const a = await hiResCam.explain(model, handInput, 0, { layer: 'feat', relu: false, upsample: false });
    assertClose('hand', a.map, tensor([0, 1, 1, 0], [1, 2, 2]));
  });

  it('equals Grad-CAM on the layer right before global average pooling', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 9);
    const h = await hiResCam.explain(model, x, [4, 1], { layer: 'relu2', relu: false });
    const g = await gradCam.explain(model, x, [4, 1], { layer: 'relu2', relu: false });
    assertClose('relu2', h.map, g.map, 1e-5);
  });

  it('differs from Grad-CAM where the gradient varies over space', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 9);
    const h = await hiResCam.explain(model, x, 4, { layer: 'conv1', relu: false, upsample: false });
    const g = await gradCam.explain(model, x, 4, { layer: 'conv1', relu: false, upsample: false });
    const diff = h.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - g.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-3 * maxAbs(g.map));
  });
});
