// Integration: the relevance methods run on every ONNX fixture of the backend (torch exports of
// ResNet-18, MobileNetV2, VGG, SqueezeNet, DenseNet, EfficientNet and GoogLeNet styles): residual
// additions, concatenations, BatchNorm and depthwise convolutions, with identities that must hold.
import { join } from 'node:path';
import { fromOnnx } from '@xlens/backend-onnx';
import type { Model, Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clrp, deeplift, deepTaylor, lrp, sglrp } from '../src/index.js';
import { randomInput } from './fixtures.js';

const dir = join(import.meta.dirname, '..', '..', 'backend-onnx', 'test', 'fixtures');
const fixtures = [
  'resnet18',
  'mobilenet_v2',
  'vgg_style',
  'squeezenet',
  'densenet_style',
  'efficientnet_style',
  'googlenet_style',
];

// The five composites of the issue (the others are covered by the LRP-0 and deep-taylor checks).
const composites = [
  'epsilon-plus',
  'epsilon-plus-flat',
  'epsilon-gamma-box',
  'epsilon-alpha2-beta1',
  'epsilon-alpha2-beta1-flat',
];
const finite = (t: Tensor): boolean => t.data.every(Number.isFinite);

describe.each(fixtures)('ONNX fixture %s', (name) => {
  let model: Model;
  let x: Tensor;
  beforeAll(async () => {
    model = await fromOnnx(join(dir, `${name}.onnx`), { intraOpThreads: 1, inputRange: [-2, 2] });
    x = randomInput(model, 1, 61, -1, 1);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('LRP-0 equals Gradient⊙Input, BatchNorm folded or not', async () => {
    const cot = new Float32Array(model.info.numClasses);
    cot[1] = 1;
    const g = await model.backward!({
      input: x,
      seed: { kind: 'output', cotangent: { data: cot, shape: [1, cot.length] } },
    });
    const gi = x.data.map((v, i) => v * g.inputGradient!.data[i]);
    const scale = Math.max(...gi.map(Math.abs));
    for (const foldBatchNorm of [true, false]) {
      // The identity needs the gradient at activations too: ReLU6's relevance pass-through differs
      // from it where a unit saturates.
      const a = await lrp.explain(model, x, 1, {
        composite: 'epsilon',
        epsilon: 0,
        foldBatchNorm,
        activations: 'gradient',
      });
      const worst = a.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - gi[i])), 0);
      expect(worst).toBeLessThan(1e-3 * scale + 1e-6);
    }
  });

  it.each(composites)('lrp %s gives a finite map and reports its conservation gap', async (composite) => {
    const a = await lrp.explain(model, x, 0, { composite, epsilon: 0.1 });
    expect(a.map.shape).toEqual(x.shape);
    expect(finite(a.map)).toBe(true);
    const gap = a.extras.conservationGap as number[];
    const sum = a.map.data.reduce((s, v) => s + v, 0);
    expect(gap[0]).toBeCloseTo(sum - (a.extras.outputRelevance as number[])[0], 3);
  });

  it('clrp, sglrp, deep-taylor and deeplift run and report', async () => {
    for (const method of [clrp, sglrp, deepTaylor, deeplift] as const) {
      const a = await method.explain(model, x, 0);
      expect(a.map.shape, method.id).toEqual(x.shape);
      expect(finite(a.map), method.id).toBe(true);
    }
    const d = await deeplift.explain(model, x, 0);
    const total = d.map.data.reduce((s, v) => s + v, 0);
    expect((d.extras.completenessGap as number[])[0]).toBeCloseTo(
      total - (d.extras.scoreDifference as number[])[0],
      3,
    );
  });
});
