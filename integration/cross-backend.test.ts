// Every gradient, CAM and relevance method on the bundled zoo models, which exist as tfjs and as
// ONNX files with the same weights: the two backends must give the same maps.
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { camMethods } from '@xlens/cam';
import { lastSpatialLayer, type Model, Registry, type Tensor } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { relevanceMethods } from '@xlens/relevance';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeL2 } from './compare.js';
import { quickOptions } from './quick-options.js';

const registry = new Registry([...gradientMethods, ...camMethods, ...relevanceMethods]);
// Methods that explain noisy copies of the model's weights. Most draws agree to rounding (relative
// L2 ~2e-7), but a float32 rounding difference between the runtimes can flip a ReLU or a max-pool
// winner in one noisy model, which moves the whole map (measured on shapes over seeds 1–8:
// FusionGrad 2 draws at 5e-3 and 2e-2, NoiseGrad 1 at 8e-4). One flip stays far below the
// O(1) error of a real disagreement such as noise laid out differently on the two backends.
const noisyWeightTolerance: Record<string, number> = { noisegrad: 5e-2, fusiongrad: 5e-2 };
// Methods whose maps legitimately differ between runtimes beyond rounding, with the reason.
const skipped: Record<string, string> = {
  patternnet: 'needs fitted patterns (its own tests fit them on both backends)',
  'pattern-attribution': 'needs fitted patterns (its own tests fit them on both backends)',
};

for (const zoo of ['shapes', 'mnist'] as const) {
  describe(`${zoo}: tfjs and ONNX give the same maps`, () => {
    let onTfjs: Model;
    let onOnnx: Model;
    let images: Tensor;
    beforeAll(async () => {
      await initTfjsBackend('wasm');
      onTfjs = await loadTfjsModel(zooModelPath(zoo, 'tfjs'), { inputRange: [0, 1] });
      onOnnx = await fromOnnx(zooModelPath(zoo, 'onnx'), { inputRange: [0, 1] });
      images = sampleImages(zoo, 2).images;
    });
    afterAll(async () => {
      await onTfjs.dispose();
      await onOnnx.dispose();
    });

    it('addresses every tfjs layer by the same name and shape on ONNX, and picks the same CAM layer', () => {
      // The ONNX graph has a few extra tensors of its own (the NHWC→NCHW transpose, the pooled
      // tensor before its reshape); every layer a user can name on tfjs must exist there too.
      const onnxShapes = new Map(onOnnx.layers!().map((l) => [l.name, l.outputShape.join('x')]));
      for (const layer of onTfjs.layers!()) {
        if (layer.kind === 'input') continue;
        expect(onnxShapes.get(layer.name), layer.name).toBe(layer.outputShape.join('x'));
      }
      expect(lastSpatialLayer(onOnnx).name).toBe(lastSpatialLayer(onTfjs).name);
    });

    for (const method of registry.list()) {
      if (skipped[method.id]) continue;
      it(method.id, async () => {
        const before = tf.memory().numTensors;
        const options = { ...(quickOptions()[method.id] ?? {}), seed: 3, registry };
        const a = await method.explain(onTfjs, images, 'top1', options);
        const b = await method.explain(onOnnx, images, 'top1', options);
        expect(tf.memory().numTensors).toBe(before);
        expect(a.targets).toEqual(b.targets);
        expect(a.map.data.every(Number.isFinite)).toBe(true);
        expect(relativeL2(a.map, b.map)).toBeLessThan(noisyWeightTolerance[method.id] ?? 1e-4);
      });
    }
  });
}
