import { encodeOnnxModel, fromOnnx, manipulateGradCam } from '@xlens/backend-onnx';
import { toyOnnxModel } from '@xlens/backend-onnx/testing';
import { createRng, defineExplainer, type Model, type Tensor } from '@xlens/core';
import { gapCnn } from '@xlens/core/testing';
import { gradient } from '@xlens/gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explanationManipulation } from './explanation-manipulation.js';

const normals = (count: number, seed: number, scale = 1): number[] =>
  Array.from(createRng(seed, 3).fillNormal(new Float32Array(count), 0, scale));

// A GAP-headed CNN with an 8×8 Grad-CAM grid (core's `gapCnn`).
const spec = gapCnn();

/**
 * Grad-CAM on `conv2` written out for the test (eval does not depend on @xlens/cam): ReLU of the
 * channels weighted by their mean gradient, on the 8×8 grid (`coarse`) and nearest-upsampled.
 */
const gradCam = defineExplainer<Record<never, never>>({
  id: 'test-grad-cam',
  family: 'cam',
  title: 'Grad-CAM (test)',
  citation: 'Selvaraju et al., 2017, arXiv:1610.02391',
  description: 'Grad-CAM on conv2',
  requires: ['capture', 'gradients', 'layer-gradients'],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const n = ctx.input.shape[0];
    const r = await ctx.model.backward!({
      input: ctx.input,
      seed: {
        kind: 'output',
        cotangent: ctx.outputCotangent(
          null,
          Array.from({ length: n }, (_, i) => i),
        ),
      },
      wrtInput: false,
      wrtLayers: ['conv2'],
      capture: ['conv2'],
    });
    const a = r.activations!.conv2;
    const g = r.layerGradients!.conv2;
    const c = a.shape[1];
    const coarse = new Float32Array(n * 64);
    const map = new Float32Array(n * 256);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < c; k++) {
        let w = 0;
        for (let p = 0; p < 64; p++) w += g.data[(i * c + k) * 64 + p] / 64;
        for (let p = 0; p < 64; p++) coarse[i * 64 + p] += w * a.data[(i * c + k) * 64 + p];
      }
      for (let p = 0; p < 64; p++) coarse[i * 64 + p] = Math.max(0, coarse[i * 64 + p]);
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++) map[i * 256 + y * 16 + x] = coarse[i * 64 + (y >> 1) * 8 + (x >> 1)];
    }
    const out: { map: Tensor; coarse: Tensor } = {
      map: { data: map, shape: [n, 16, 16] },
      coarse: { data: coarse, shape: [n, 8, 8] },
    };
    return out;
  },
});

const picture = Array.from({ length: 64 }, (_, p) => (((p % 8) + Math.floor(p / 8)) % 3 === 0 ? 1 : 0.2));
const input: Tensor = {
  data: createRng(7, 0).fillUniform(new Float32Array(4 * 3 * 256)),
  shape: [4, 3, 16, 16],
};

let original: Model;
let constant: Model;
let image: Model;
let different: Model;

beforeAll(async () => {
  const source = toyOnnxModel(spec);
  original = await fromOnnx(encodeOnnxModel(source));
  const forced = (explanation: Parameters<typeof manipulateGradCam>[1]['explanation']) =>
    fromOnnx(encodeOnnxModel(manipulateGradCam(source, { layer: 'conv2', grid: [8, 8], explanation })));
  constant = await forced({ kind: 'constant' });
  image = await forced({ kind: 'image', image: picture });
  // Not a manipulation: other dense weights, so other logits.
  different = await fromOnnx(
    encodeOnnxModel(
      toyOnnxModel({
        ...spec,
        layers: spec.layers.map((l) => (l.type === 'dense' ? { ...l, weight: normals(18, 9) } : l)),
      }),
    ),
  );
});

afterAll(async () => {
  for (const m of [original, constant, image, different]) await m.dispose();
});

describe('explanation-manipulation (Viering et al. 2019)', () => {
  it('Grad-CAM is fooled into the forced picture (fail); the input gradient is not (pass)', async () => {
    const cam = await explanationManipulation.run(
      { model: original, input, explainer: gradCam, secondModel: image },
      { forced: picture },
    );
    expect(cam.verdict).toBe('fail');
    expect(cam.statistics['logit-difference']).toBeLessThanOrEqual(1e-4);
    expect(cam.statistics['relative-difference']).toBeGreaterThan(0.3);
    expect(cam.statistics['forced-error']).toBeLessThan(1e-3);

    const grad = await explanationManipulation.run(
      { model: original, input, explainer: gradient, secondModel: image },
      { forced: picture },
    );
    expect(grad.verdict).toBe('pass');
    expect(grad.statistics['relative-difference']).toBeLessThan(1e-4);
    // The gradient map has nothing to do with the forced picture.
    expect(grad.statistics['forced-error']).toBeGreaterThan(0.1);
  });

  it('a constant forced map: Grad-CAM becomes flat', async () => {
    const r = await explanationManipulation.run(
      { model: original, input, explainer: gradCam, secondModel: constant },
      { forced: new Array(64).fill(1) },
    );
    expect(r.verdict).toBe('fail');
    expect(r.statistics['forced-error']).toBeLessThan(1e-3);
    expect(r.summary).toMatch(/relative-difference = .* ≥ 0.05: fail/);
  });

  it('a pair with different logits is undecided, and a bad forced grid is rejected', async () => {
    const r = await explanationManipulation.run({
      model: original,
      input,
      explainer: gradient,
      secondModel: different,
    });
    expect(r.verdict).toBe('undecided');
    expect(r.summary).toMatch(/not a prediction-preserving manipulation/);
    await expect(
      explanationManipulation.run(
        { model: original, input, explainer: gradient, secondModel: image },
        { forced: [1, 2, 3] },
      ),
    ).rejects.toThrow(/not a square grid/);
  });
});
