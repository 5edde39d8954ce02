import { tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet } from '../test/fixtures.js';
import { gradCam } from './grad-cam.js';
import { xGradCam } from './xgrad-cam.js';

describe('xgrad-cam', () => {
  it('matches the hand-computed map of a toy net, with a zero channel giving weight 0', async () => {
    // w⁰ = Σ A⁰g⁰ / ΣA⁰ = (2·.5 + 3·.5)/10 = .25, w¹ = (0·−.5 + 1·−.5)/8 = −.0625, A² = 0 → w² = 0.
    const model = referenceModel(handNet());
    const a = await xGradCam.explain(model, handInput, 0, { layer: 'feat', relu: false, upsample: false });
    const expected = [0.25 - 0.125, 0.5, 0.75 - 0.0625, 1 - 0.3125];
    assertClose('hand', a.map, tensor(expected, [1, 2, 2]));
    expect(a.map.data.every(Number.isFinite)).toBe(true);
  });

  it('equals Grad-CAM on the layer before GAP (constant gradient per channel)', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 17);
    const a = await xGradCam.explain(model, x, [0, 3], { layer: 'relu2' });
    const b = await gradCam.explain(model, x, [0, 3], { layer: 'relu2' });
    assertClose('relu2', a.map, b.map, 1e-5);
  });
});
