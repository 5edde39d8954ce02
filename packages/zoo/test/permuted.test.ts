import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { permutedLabels, shapesDataset, zooModel } from '../src/index.js';
import { loadTfjs } from './load-tfjs.js';

// The permuted-label model of the data-randomisation test (scripts/train-permuted.mjs).
const meta = zooModel('shapes-permuted').meta as ReturnType<typeof zooModel>['meta'] & {
  trainAccuracy: number;
  data: { trainSeed: number; permutationSeed: number };
};

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('shapes-permuted', () => {
  it('has memorised its permuted training labels (≥ 95%) and knows nothing of the true classes', async () => {
    const model = await loadTfjs('shapes-permuted');
    const train = shapesDataset({ count: meta.trainCount, seed: meta.data.trainSeed });
    const labels = permutedLabels(train.labels, meta.data.permutationSeed);
    // The permutation really breaks the link: few items keep their label.
    expect(labels.filter((l, i) => l === train.labels[i]).length / labels.length).toBeLessThan(0.3);
    const fresh = shapesDataset({ count: 300, seed: 31337 });
    const predict = (images: typeof train.images): number[] =>
      tf.tidy(() => {
        const out = model.predict(tf.tensor(images.data, [...images.shape])) as tf.Tensor;
        return Array.from(tf.argMax(out, 1).dataSync());
      });
    const onTrain = predict(train.images);
    const trainAccuracy = onTrain.filter((p, i) => p === labels[i]).length / labels.length;
    expect(trainAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(trainAccuracy).toBeCloseTo(meta.trainAccuracy, 2);
    // Same architecture as `shapes`, same layer names (the data-randomisation pair).
    expect(model.layers.map((l) => l.name)).toEqual(
      JSON.parse(readFileSync(zooModel('shapes').tfjs, 'utf8')).modelTopology.config.layers.map(
        (l: { name: string }) => l.name,
      ),
    );
    // On fresh items the true class is found at about chance level (1/6), far from `shapes`' 98%.
    const onFresh = predict(fresh.images);
    expect(onFresh.filter((p, i) => p === fresh.labels[i]).length / fresh.labels.length).toBeLessThan(0.4);
    model.dispose();
  });
});
