import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, lastSpatialLayer, type Model, type Tensor } from '@xlens/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromOnnx } from '../src/index.js';

const fixtures = [
  'resnet18',
  'mobilenet_v2',
  'vgg_style',
  'squeezenet',
  'densenet_style',
  'efficientnet_style',
  'googlenet_style',
  'misc_ops',
  // Plain exports of freshly initialised torchvision nets: shared zero biases fed through Identity.
  'resnet18_default_init_opset13',
  'resnet18_default_init_opset17',
  'mobilenet_v2_default_init_opset13',
  'mobilenet_v2_default_init_opset17',
];

function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const rng = createRng(seed, 3);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillNormal(data, 0, scale);
  return { data, shape };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe.each(fixtures)('fixture %s', (name) => {
  const path = join(import.meta.dirname, 'fixtures', `${name}.onnx`);
  let model: Model;
  let plain: ort.InferenceSession;
  const plainForward = async (x: Tensor): Promise<Float32Array> => {
    const out = await plain.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
    return out[plain.outputNames[0]].data as Float32Array;
  };

  beforeAll(async () => {
    // The whole graph, softmax heads included (misc_ops ends in one), against the original file.
    model = await fromOnnx(path, { intraOpThreads: 1, stripSoftmax: false });
    plain = await ort.InferenceSession.create(readFileSync(path), { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await model.dispose();
    await plain.release();
  });

  it('forward equals a plain ORT session on the original file', async () => {
    const x = randomTensor([3, ...model.info.inputShape], 1);
    const got = await model.forward(x);
    const want = await plainForward(x);
    expect(got.shape).toEqual([3, model.info.numClasses]);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want[i]));
    expect(worst).toBeLessThan(1e-5 * Math.max(1, ...Array.from(want, Math.abs)));
  });

  it('lists layers with shapes and an automatic spatial CAM layer', () => {
    const layers = model.layers!();
    expect(layers[0].kind).toBe('input');
    expect(layers.some((l) => l.kind === 'conv')).toBe(true);
    const cam = lastSpatialLayer(model);
    expect(cam.outputShape.length).toBe(3);
    expect(cam.outputShape[1]).toBeGreaterThan(1);
  });

  it('input gradients equal central finite differences along random directions', async () => {
    const n = 2;
    const k = model.info.numClasses;
    const x = randomTensor([n, ...model.info.inputShape], 2);
    const cot = randomTensor([n, k], 3);
    const { inputGradient } = await model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } });
    const objective = async (t: Tensor) => dot(await plainForward(t), cot.data);
    // Float32 differences of a network full of ReLU/max kinks are noisy at any step: compare the
    // directional derivatives of several directions as one vector. Smooth nets are held tighter.
    const smooth = name === 'efficientnet_style';
    const eps = smooth ? 1e-3 : 1e-4;
    let err = 0;
    let norm = 0;
    for (let trial = 0; trial < 4; trial++) {
      const d = randomTensor(x.shape as number[], 10 + trial);
      const analytic = dot(inputGradient!.data, d.data);
      const plus = { data: x.data.map((v, i) => v + eps * d.data[i]), shape: x.shape };
      const minus = { data: x.data.map((v, i) => v - eps * d.data[i]), shape: x.shape };
      const numeric = ((await objective(plus)) - (await objective(minus))) / (2 * eps);
      err += (numeric - analytic) ** 2;
      norm += analytic ** 2;
    }
    expect(norm).toBeGreaterThan(0);
    expect(Math.sqrt(err / norm)).toBeLessThan(smooth ? 2e-3 : 0.15);
  });

  it('LRP-0 (epsilon 0 on every conv and dense layer) equals input ⊙ gradient', async () => {
    // With ε = 0 the modified gradient Wᵀ(z ⊙ g ⊘ z) is the ordinary one, whatever the biases:
    // this exercises every rule's replayed forward and transposed op on the real geometries.
    const x = randomTensor([1, ...model.info.inputShape], 4);
    const k = model.info.numClasses;
    const seed = { kind: 'output' as const, cotangent: randomTensor([1, k], 5) };
    const linearLayers = model.layers!().filter((l) => l.kind === 'conv' || l.kind === 'dense');
    const linear = Object.fromEntries(
      linearLayers.map((l) => [l.name, { kind: 'epsilon' as const, epsilon: 0 }]),
    );
    const plain = await model.backward!({ input: x, seed, relevance: true });
    const ruled = await model.backward!({ input: x, seed, relevance: true, rules: { linear } });
    const want = plain.inputRelevance!.data;
    const got = ruled.inputRelevance!.data;
    const scale = Math.max(...Array.from(want, Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(linearLayers.length).toBeGreaterThan(2);
    expect(worst).toBeLessThan(1e-4 * scale);
  });
});
