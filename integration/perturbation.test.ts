// Every forward-only perturbation method on the bundled zoo models gives the same map on tfjs and
// ONNX Runtime (the two files hold the same weights), and — needing only forward passes — the same
// map again on a black box (`fromFunction`) wrapping either runtime. Small settings keep the file
// fast. The mask optimisations (which need gradients) are in mask-optimisation.test.ts.
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { fromFunction, type Model, Registry, type Tensor } from '@xlens/core';
import { perturbationMethods } from '@xlens/perturbation';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { relativeL2 } from './compare.js';
import { maskerFor, quickOptions } from './quick-options.js';

let data: Tensor;

describe('shapes: every perturbation method gives the same map on tfjs, ONNX and a black box', () => {
  let onTfjs: Model;
  let onOnnx: Model;
  let images: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    onTfjs = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
    onOnnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
    images = sampleImages('shapes', 2).images;
    data = sampleImages('shapes', 8).images;
  });
  afterAll(async () => {
    await onTfjs.dispose();
    await onOnnx.dispose();
  });

  for (const method of perturbationMethods.filter((m) => m.requires.length === 0)) {
    it(method.id, async () => {
      const before = tf.memory().numTensors;
      const options = {
        ...quickOptions(data)[method.id],
        ...maskerFor(method.id, onTfjs),
        seed: 3,
        batchSize: 32,
      };
      const a = await method.explain(onTfjs, images, 'top1', options);
      const b = await method.explain(onOnnx, images, 'top1', options);
      expect(tf.memory().numTensors).toBe(before);
      expect(a.targets).toEqual(b.targets);
      expect(a.map.data.every(Number.isFinite)).toBe(true);
      expect(relativeL2(a.map, b.map)).toBeLessThan(1e-4);
      const blackBox = fromFunction((x) => onOnnx.forward(x), { ...onOnnx.info, name: 'black box' });
      const c = await method.explain(blackBox, images, a.targets!, options);
      expect(Array.from(c.map.data)).toEqual(Array.from(b.map.data));
    });
  }
});

describe('types of the perturbation family', () => {
  it('Registry.get knows each method by id, with its extras', async () => {
    const registry = new Registry(perturbationMethods);
    const lime = registry.get('lime');
    expectTypeOf(lime.id).toEqualTypeOf<'lime'>();
    const model = fromFunction(
      (x) => Float32Array.from({ length: x.shape[0] * 2 }, (_, i) => x.data[i] - i),
      {
        inputShape: [1, 4, 4],
        layout: 'NCHW',
        numClasses: 2,
      },
    );
    const x: Tensor = { data: new Float32Array(16).map((_, i) => i / 16), shape: [1, 1, 4, 4] };
    const a = await lime.explain(model, x, 0, { samples: 8, segments: 4 });
    const weights: readonly number[] = a.extras.segmentWeights;
    expect(weights.length).toBe(a.extras.segmentCount[0]);
    const shap = await registry.get('kernel-shap').explain(model, x, 0, { samples: 8, segments: 4 });
    expectTypeOf(shap.extras.baseValue).toEqualTypeOf<number[]>();
    const occ = await registry.get('occlusion').explain(model, x, 0, { window: 2 });
    expect(occ.extras.windows).toBe(9);
  });
});
