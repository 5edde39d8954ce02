// ADR 0003 on real runtimes: explaining a batch gives every item, byte for byte, the map (and
// coarse map) it gets when explained alone — for every method of every family, stochastic ones
// included, on tfjs and on ONNX Runtime, with chunks that straddle items.
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { camMethods } from '@xlens/cam';
import { type AnyExplainer, type Attribution, item, type Model, Registry, type Tensor } from '@xlens/core';
import { aggregationMethods } from '@xlens/eval';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { fitPatterns, relevanceMethods } from '@xlens/relevance';
import { synthesisMethods } from '@xlens/synthesis';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskerFor } from './quick-options.js';

const registry = new Registry<AnyExplainer>([
  ...gradientMethods,
  ...camMethods,
  ...relevanceMethods,
  ...perturbationMethods,
  ...synthesisMethods,
  ...aggregationMethods,
]);
const quick: Record<string, Record<string, unknown>> = {
  'integrated-gradients': { steps: 6 },
  smoothgrad: { samples: 3 },
  vargrad: { samples: 3 },
  noisegrad: { models: 2 },
  fusiongrad: { models: 2, samples: 2 },
  'smooth-grad-cam-plus-plus': { samples: 3 },
  xrai: { steps: 4, segmentationSize: 0, scales: [100] },
  occlusion: { window: 16, stride: 16 },
  rise: { masks: 8 },
  lime: { samples: 12 },
  'kernel-shap': { samples: 12 },
  'prediction-difference': { window: 16, stride: 16, samples: 2 },
  'activation-maximisation': { steps: 3 },
  'class-model': { steps: 3 },
  inversion: { steps: 3 },
  'meaningful-perturbation': { steps: 2, cells: 8 },
  'extremal-perturbation': { steps: 2, areas: [0.1, 0.2], stride: 8 },
  fgvis: { steps: 2 },
  'agg-mean': { methods: ['saliency', 'grad-cam'] },
  'agg-var': { methods: ['saliency', 'grad-cam'] },
};
/** Methods that explain a batch as a group by definition, with the reason. */
const groupMethods: Record<string, string> = {
  ccam: 'CCAM takes the principal components common to the whole batch (Class-Contrastive CAM), so an item’s map depends on its batch-mates',
};

const bytes = (t: Tensor | undefined): number[] =>
  t ? Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)) : [];

for (const runtime of ['tfjs', 'onnx'] as const) {
  describe(`a batch equals its items on ${runtime}`, () => {
    let model: Model;
    let images: Tensor;
    let patterns: unknown;
    const targets = [3, 0, 5];
    beforeAll(async () => {
      if (runtime === 'tfjs') {
        await initTfjsBackend('wasm');
        model = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
      } else model = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
      images = sampleImages('shapes', 3).images;
      patterns = await fitPatterns(model, images);
    });
    afterAll(async () => {
      await model.dispose();
    });

    for (const method of registry.list() as AnyExplainer[]) {
      if (groupMethods[method.id]) continue;
      it(method.id, async () => {
        const before = runtime === 'tfjs' ? tf.memory().numTensors : 0;
        const options = {
          ...(quick[method.id] ?? {}),
          ...(method.id.startsWith('pattern') ? { patterns } : {}),
          ...maskerFor(method.id, model),
          seed: 11,
          batchSize: 2,
          registry,
        };
        const batch: Attribution = await method.explain(model, images, targets, options);
        for (let i = 0; i < targets.length; i++) {
          const alone: Attribution = await method.explain(model, item(images, i), targets[i], options);
          expect(bytes(item(batch.map, i)), `map of item ${i}`).toEqual(bytes(alone.map));
          if (batch.coarse)
            expect(bytes(item(batch.coarse, i)), `coarse map of item ${i}`).toEqual(bytes(alone.coarse));
        }
        if (runtime === 'tfjs') expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
