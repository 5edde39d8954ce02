import { type Tensor, toChannelsLast } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { gradCam } from './grad-cam.js';
import { guidedGradCam } from './guided-grad-cam.js';

async function guidedBackprop(
  model: ReturnType<typeof referenceModel>,
  x: Tensor,
  targets: number[],
): Promise<Tensor> {
  const seed = { data: new Float32Array(targets.length * 5), shape: [targets.length, 5] };
  targets.forEach((c, i) => {
    seed.data[i * 5 + c] = 1;
  });
  const r = await model.backward!({
    input: x,
    seed: { kind: 'output', cotangent: seed },
    rules: { relu: 'guided' },
  });
  return r.inputGradient!;
}

describe('guided-grad-cam', () => {
  it('equals the upsampled Grad-CAM times the Guided Backprop gradient, per channel', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 81);
    const targets = [2, 4];
    const gg = await guidedGradCam.explain(model, x, targets, { layer: 'conv1' });
    const cam = await gradCam.explain(model, x, targets, { layer: 'conv1' });
    const guided = await guidedBackprop(model, x, targets);
    const expected = { data: new Float32Array(guided.data.length), shape: guided.shape };
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 64; p++)
          expected.data[(b * 3 + c) * 64 + p] = guided.data[(b * 3 + c) * 64 + p] * cam.map.data[b * 64 + p];
    expect(gg.mapKind).toBe('input');
    expect(gg.layout).toBe('NCHW');
    assertClose('product', gg.map, expected, 1e-6);
    assertClose('coarse is Grad-CAM', gg.coarse, cam.coarse!, 0);
  });

  it('keeps the model layout (NHWC)', async () => {
    const nchw = referenceModel(tinyCnn());
    const nhwc = referenceModel(tinyCnn(), { layout: 'NHWC' });
    const x = randomInput(nchw, 1, 82);
    const a = await guidedGradCam.explain(nchw, x, 1);
    const b = await guidedGradCam.explain(nhwc, toChannelsLast(x), 1);
    expect(b.layout).toBe('NHWC');
    assertClose('NHWC', b.map, toChannelsLast(a.map), 1e-6);
  });
});
