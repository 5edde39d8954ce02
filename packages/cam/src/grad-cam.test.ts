import { fromFunction, Registry, resizeBilinear, tensor, XlensError } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn, tinyDense } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { handInput, handNet, itemOf, maxAbs } from '../test/fixtures.js';
import { gradCam } from './grad-cam.js';
import { camMethods } from './index.js';

describe('grad-cam', () => {
  it('matches the hand-computed map of a toy net', async () => {
    // Gradients at feat for class 0: g⁰ = [[0, .5], [.5, 0]], g¹ = −g⁰, g² = 0, so the weights are
    // the means 0.25, −0.25, 0 and M = 0.25·(A⁰ − A¹) = [[−.25, .5], [.5, −.25]].
    const model = referenceModel(handNet());
    const raw = await gradCam.explain(model, handInput, 0, { layer: 'feat', relu: false, upsample: false });
    assertClose('raw', raw.map, tensor([-0.25, 0.5, 0.5, -0.25], [1, 2, 2]));
    const positive = await gradCam.explain(model, handInput, 0, { layer: 'feat' });
    assertClose('relu', positive.map, tensor([0, 0.5, 0.5, 0], [1, 2, 2]));
    assertClose('coarse', positive.coarse, tensor([0, 0.5, 0.5, 0], [1, 2, 2]));
  });

  it('upsamples the coarse map bilinearly to the input size, or returns it raw', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 7);
    const up = await gradCam.explain(model, x, 1, { relu: false });
    expect(up.map.shape).toEqual([2, 8, 8]);
    expect(up.coarse!.shape).toEqual([2, 4, 4]);
    assertClose('upsampled', up.map, resizeBilinear(up.coarse!, 8, 8));
    const raw = await gradCam.explain(model, x, 1, { relu: false, upsample: false });
    assertClose('raw = coarse', raw.map, up.coarse!);
    expect(raw.map.data.some((v) => v < 0)).toBe(true);
    const clipped = await gradCam.explain(model, x, 1, { upsample: false });
    assertClose('relu', clipped.map, { data: raw.map.data.map((v) => Math.max(v, 0)), shape: raw.map.shape });
  });

  it('picks the last spatial layer automatically', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 3);
    const auto = await gradCam.explain(model, x, 2, { relu: false });
    const named = await gradCam.explain(model, x, 2, { relu: false, layer: 'relu2' });
    assertClose('auto = relu2', auto.map, named.map, 0);
    // What was run is recorded: the picked layer, not ''.
    expect(auto.options.layer).toBe('relu2');
  });

  it('explains every item of a batch with its own target, as if run alone', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 3, 11);
    const targets = [0, 4, 2];
    const batch = await gradCam.explain(model, x, targets, { relu: false, batchSize: 2 });
    for (let i = 0; i < 3; i++) {
      const alone = await gradCam.explain(model, itemOf(x, i), targets[i], { relu: false });
      assertClose(`item ${i}`, itemOf(batch.map, i), alone.map, 1e-6);
    }
    expect(maxAbs(batch.map)).toBeGreaterThan(0);
  });

  it('gives the same map for NHWC and NCHW layouts', async () => {
    const nchw = referenceModel(tinyCnn());
    const nhwc = referenceModel(tinyCnn(), { layout: 'NHWC' });
    const x = randomInput(nchw, 1, 5);
    const xt = { data: new Float32Array(x.data.length), shape: [1, 8, 8, 3] };
    for (let c = 0; c < 3; c++) for (let p = 0; p < 64; p++) xt.data[p * 3 + c] = x.data[c * 64 + p];
    const a = await gradCam.explain(nchw, x, 3, { relu: false });
    const b = await gradCam.explain(nhwc, xt, 3, { relu: false });
    assertClose('layouts', b.map, a.map, 1e-6);
  });

  it('rejects unknown and non-spatial layers, and ambiguous layer options, before compute', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 1);
    await expect(gradCam.explain(model, x, 0, { layer: 'conv9' })).rejects.toMatchObject({
      code: 'unknown-layer',
    });
    await expect(gradCam.explain(model, x, 0, { layer: 'gap' })).rejects.toMatchObject({
      code: 'not-spatial-layer',
    });
    await expect(gradCam.explain(model, x, 0, { layers: 'conv1,nope' })).rejects.toMatchObject({
      code: 'unknown-layer',
    });
    await expect(gradCam.explain(model, x, 0, { layer: 'conv1', layers: 'relu2' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    const dense = referenceModel(tinyDense());
    await expect(gradCam.explain(dense, randomInput(dense, 1, 1), 0)).rejects.toMatchObject({
      code: 'not-spatial-layer',
    });
    const blackBox = fromFunction(() => new Float32Array(5), {
      inputShape: [3, 8, 8],
      layout: 'NCHW',
      numClasses: 5,
    });
    const error = await gradCam.explain(blackBox, x, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XlensError);
    expect((error as XlensError).code).toBe('missing-capability');
  });
});

describe('camMethods', () => {
  it('lists the 13 CAM methods with distinct kebab ids, citations and docs for every option', () => {
    const registry = new Registry(camMethods);
    expect(registry.list('cam').map((m) => m.id)).toEqual([
      'cam',
      'grad-cam',
      'guided-grad-cam',
      'grad-cam-plus-plus',
      'smooth-grad-cam-plus-plus',
      'score-cam',
      'layer-cam',
      'xgrad-cam',
      'hires-cam',
      'eigen-cam',
      'ablation-cam',
      'clear',
      'ccam',
    ]);
    for (const m of camMethods) {
      expect(m.citation).toMatch(/20\d\d/);
      expect(Object.keys(m.options).sort()).toEqual(Object.keys(m.defaults).sort());
    }
  });
});
