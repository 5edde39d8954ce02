import { tensor } from '@xlens/core';
import {
  assertClose,
  avgPoolCnn,
  randomInput,
  referenceModel,
  type ToySpec,
  tinyCnn,
} from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet, scaled } from '../test/fixtures.js';
import { cam } from './cam.js';
import { gradCam } from './grad-cam.js';

describe('cam', () => {
  it('weights the layer feeding GAP with the dense weights of the class (hand-computed)', async () => {
    // handNet: mix = [[0, 2], [2, 0]] feeds GAP, fc weights [2, −1]: M_0 = 2·mix, M_1 = −mix.
    const model = referenceModel(handNet());
    const a = await cam.explain(model, handInput, [0], { upsample: false });
    assertClose('class 0', a.map, tensor([0, 4, 4, 0], [1, 2, 2]));
    const b = await cam.explain(model, handInput, 1, { upsample: false });
    assertClose('class 1 keeps negatives (no ReLU by default)', b.map, tensor([0, -2, -2, 0], [1, 2, 2]));
  });

  it('equals Grad-CAM times h·w on a GAP→dense head', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 3, 21);
    const targets = [1, 3, 0];
    const c = await cam.explain(model, x, targets, { upsample: false });
    const g = await gradCam.explain(model, x, targets, { relu: false, upsample: false });
    assertClose('cam = 16·grad-cam', c.map, scaled(g.map, 16), 1e-5);
    const up = await cam.explain(model, x, targets);
    const gUp = await gradCam.explain(model, x, targets, { relu: false });
    assertClose('upsampled', up.map, scaled(gUp.map, 16), 1e-5);
  });

  it('sums over pixels to the logit minus the bias (GAP→dense conservation)', async () => {
    const spec = tinyCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 2, 4);
    const out = await model.forward(x);
    const fc = spec.layers.at(-1)!;
    const bias = fc.type === 'dense' ? fc.bias! : [];
    const c = await cam.explain(model, x, [2, 2], { upsample: false });
    for (let b = 0; b < 2; b++) {
      const total = c.map.data.slice(b * 16, (b + 1) * 16).reduce((s, v) => s + v, 0);
      expect(total / 16).toBeCloseTo(out.data[b * 5 + 2] - bias[2], 4);
    }
  });

  it('reads the class channel on a conv→GAP head with no dense layer (and still equals Grad-CAM·h·w)', async () => {
    const base = tinyCnn();
    const spec: ToySpec = { ...base, name: 'conv-gap', numClasses: 6, layers: base.layers.slice(0, -1) };
    const model = referenceModel(spec);
    const x = randomInput(model, 3, 8);
    const targets = [5, 0, 2];
    const c = await cam.explain(model, x, targets, { upsample: false });
    const { activations } = await model.capture!(x, ['relu2']);
    const channel = new Float32Array(3 * 16);
    targets.forEach((t, b) => {
      channel.set(activations.relu2.data.subarray((b * 6 + t) * 16, (b * 6 + t + 1) * 16), b * 16);
    });
    assertClose('cam = the target channel', c.map, tensor(channel, [3, 4, 4]), 1e-6);
    const g = await gradCam.explain(model, x, targets, { relu: false, upsample: false });
    assertClose('cam = 16·grad-cam', c.map, scaled(g.map, 16), 1e-5);
  });

  it('rejects heads that are not GAP→dense, naming the culprit', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 1);
    await expect(cam.explain(model, x, 0, { layer: 'conv2' })).rejects.toThrow(/feeds relu2/);
    await expect(cam.explain(model, x, 0, { layer: 'conv2' })).rejects.toMatchObject({ code: 'unsupported' });
    const flat = referenceModel(avgPoolCnn());
    await expect(cam.explain(flat, randomInput(flat, 1, 1), 0)).rejects.toThrow(/feeds flatten/);
    const base = tinyCnn();
    const fc = base.layers.at(-1)!;
    const twoDense: ToySpec = {
      ...base,
      layers: [
        ...base.layers.slice(0, -1),
        {
          type: 'dense',
          name: 'fc0',
          inFeatures: 6,
          outFeatures: 6,
          weight: Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)),
        },
        { ...fc, name: 'fc' },
      ],
    };
    const m2 = referenceModel(twoDense);
    await expect(cam.explain(m2, x, 0)).rejects.toThrow(/fc \(dense, Dense\) follows the dense layer fc0/);
    const fused: ToySpec = {
      ...base,
      layers: [
        ...base.layers.slice(0, -1),
        { ...(fc as Extract<typeof fc, { type: 'dense' }>), activation: 'relu' },
      ],
    };
    await expect(cam.explain(referenceModel(fused), x, 0)).rejects.toThrow(/fused relu activation/);
  });

  it('warns that a non-logit score does not change the dense weights', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 2);
    const a = await cam.explain(model, x, 1, { score: 'softmax' });
    const b = await cam.explain(model, x, 1);
    assertClose('same map', a.map, b.map, 0);
    expect(a.warnings[0]).toMatch(/softmax does not apply/);
  });
});
