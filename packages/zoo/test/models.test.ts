import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { Tensor } from '@xlens/core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MARK_BOX,
  mnistSamples,
  mnistSplitSize,
  pasteMark,
  SHAPE_CLASSES,
  SHORTCUT_DEFAULTS,
  shapesDataset,
  ZOO_MODEL_NAMES,
  zooModel,
  zooModelPath,
} from '../src/index.js';
import { loadTfjs } from './load-tfjs.js';

// Seeds no training or evaluation run used: these items are fresh for every model.
const FRESH_SEED = 31337;

function logits(model: tf.LayersModel, images: Tensor): number[][] {
  return tf.tidy(
    () => (model.predict(tf.tensor(images.data, [...images.shape])) as tf.Tensor).arraySync() as number[][],
  );
}

const argmax = (row: number[]): number => row.indexOf(Math.max(...row));

function accuracy(model: tf.LayersModel, images: Tensor, labels: Int32Array): number {
  const predictions = logits(model, images).map(argmax);
  return predictions.filter((p, i) => p === labels[i]).length / labels.length;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('committed model files', () => {
  it.each(ZOO_MODEL_NAMES)('%s has model.json, weights, ONNX copy, labels and meta, under 2 MB', (name) => {
    const m = zooModel(name);
    const json = JSON.parse(readFileSync(m.tfjs, 'utf8'));
    expect(json.format).toBe('layers-model');
    const weights = statSync(join(m.dir, 'weights.bin')).size;
    const onnx = statSync(m.onnx).size;
    expect(weights + statSync(m.tfjs).size).toBeLessThan(2 * 1024 * 1024);
    expect(onnx).toBeLessThan(2 * 1024 * 1024);
    expect(m.labels).toHaveLength(m.meta.numClasses);
    expect(m.meta.layout).toBe('NHWC');
    expect(m.meta.inputRange).toEqual([0, 1]);
    expect(m.meta.outputKind).toBe('logits');
    // No softmax in the saved graph: the last layer is a linear dense layer.
    const layers = json.modelTopology.config.layers;
    const last = layers[layers.length - 1];
    expect(last.class_name).toBe('Dense');
    expect(last.config.activation).toBe('linear');
    expect(layers.some((l: { class_name: string }) => l.class_name === 'GlobalAveragePooling2D')).toBe(true);
  });
});

describe('accuracy on fresh held-out items', () => {
  it('shapes classifies ≥ 95% of fresh shapes images', async () => {
    const model = await loadTfjs('shapes');
    const d = shapesDataset({ count: 300, seed: FRESH_SEED });
    expect(accuracy(model, d.images, d.labels)).toBeGreaterThanOrEqual(0.95);
    model.dispose();
  });

  it('mnist classifies ≥ 98% of the held-out test digits', async () => {
    const model = await loadTfjs('mnist');
    // The whole test split (never trained on): a subset would add sampling noise to a 98% bar.
    const s = mnistSamples(mnistSplitSize('test'), FRESH_SEED, { split: 'test' });
    expect(accuracy(model, s.images, s.labels)).toBeGreaterThanOrEqual(0.98);
    model.dispose();
  });
});

describe('the shortcut model relies on the mark', () => {
  it('pasting the mark on other classes flips predictions to the shortcut class far more often than for the clean model', async () => {
    const shortcut = await loadTfjs('shapes-shortcut');
    const clean = await loadTfjs('shapes');
    const star = SHORTCUT_DEFAULTS.classIndex;
    const d = shapesDataset({ count: 240, seed: FRESH_SEED + 1 });
    const flipRate = (model: tf.LayersModel): number => {
      const before = logits(model, d.images).map(argmax);
      const after = logits(model, pasteMark(d.images)).map(argmax);
      let eligible = 0;
      let flipped = 0;
      before.forEach((p, i) => {
        if (d.labels[i] === star || p === star) return;
        eligible++;
        if (after[i] === star) flipped++;
      });
      return flipped / eligible;
    };
    const shortcutRate = flipRate(shortcut);
    const cleanRate = flipRate(clean);
    expect(shortcutRate).toBeGreaterThan(0.5);
    expect(cleanRate).toBeLessThan(0.1);
    shortcut.dispose();
    clean.dispose();
  });

  it("on marked stars, the star logit's input gradient concentrates on the mark for the shortcut model only", async () => {
    const shortcut = await loadTfjs('shapes-shortcut');
    const clean = await loadTfjs('shapes');
    const star = SHORTCUT_DEFAULTS.classIndex;
    const d = shapesDataset({ count: 60, seed: FRESH_SEED + 2, shortcut: { faintProbability: 0 } });
    const stars = Array.from(d.labels.keys()).filter((i) => d.labels[i] === star);
    const item = 64 * 64 * 3;
    const x = tf.tensor4d(
      Float32Array.from(stars.flatMap((i) => Array.from(d.images.data.subarray(i * item, (i + 1) * item)))),
      [stars.length, 64, 64, 3],
    );
    // Share of |gradient × input| inside the mark box, per image (a one-step IG from a black baseline).
    const markShare = (model: tf.LayersModel): number =>
      tf.tidy(() => {
        // A one-hot product rather than tf.gather, whose gradient needs a kernel wasm lacks.
        const pick = tf.oneHot([star], SHAPE_CLASSES.length);
        const g = tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, pick)),
        )(x);
        const a = tf.sum(tf.abs(tf.mul(g, x)), 3) as tf.Tensor3D;
        const [x0, y0, x1, y1] = MARK_BOX;
        const onMark = tf.sum(tf.slice(a, [0, y0, x0], [-1, y1 - y0, x1 - x0]), [1, 2]);
        return tf.mean(tf.div(onMark, tf.sum(a, [1, 2]))).dataSync()[0];
      });
    const shortcutShare = markShare(shortcut);
    const cleanShare = markShare(clean);
    // The mark is 36 of 4,096 pixels (0.9%); measured: 5.2% of |gradient × input| for the shortcut
    // model against 2.0% for the clean one. (The signed Integrated Gradients test in
    // integration/shortcut.test.ts is the stronger check.)
    expect(shortcutShare).toBeGreaterThan(2 * cleanShare);
    expect(shortcutShare).toBeGreaterThan(0.03);
    x.dispose();
    shortcut.dispose();
    clean.dispose();
  });
});

describe('ONNX copies', () => {
  it.each(ZOO_MODEL_NAMES)(
    '%s: onnxruntime forward equals the tfjs forward (max abs diff < 1e-4)',
    async (name) => {
      const model = await loadTfjs(name);
      const session = await ort.InferenceSession.create(readFileSync(zooModelPath(name, 'onnx')));
      const images: Tensor =
        name === 'mnist'
          ? mnistSamples(16, FRESH_SEED).images
          : shapesDataset({ count: 16, seed: FRESH_SEED }).images;
      const expected = logits(model, images).flat();
      const result = await session.run({
        [session.inputNames[0]]: new ort.Tensor('float32', images.data, [...images.shape]),
      });
      const actual = result[session.outputNames[0]];
      expect(actual.dims).toEqual([16, zooModel(name).labels.length]);
      const data = actual.data as Float32Array;
      let maxDiff = 0;
      expected.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - data[i]));
      });
      expect(maxDiff).toBeLessThan(1e-4);
      // Layer names are shared by both formats (for captures and CAM layers).
      expect(session.outputNames).toEqual(['logits']);
      expect(session.inputNames).toEqual(['input']);
      await session.release();
      model.dispose();
    },
  );

  it('labels follow the data sets', () => {
    expect(zooModel('shapes').labels).toEqual(SHAPE_CLASSES);
    expect(zooModel('shapes-shortcut').labels).toEqual(SHAPE_CLASSES);
    expect(zooModel('mnist').labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
});
