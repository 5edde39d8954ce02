import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRng } from '@xlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapesDataset, zooModel } from '../src/index.js';

// The permuted-label model of the data-randomisation test (scripts/train-permuted.mjs).
const meta = zooModel('shapes-permuted').meta as ReturnType<typeof zooModel>['meta'] & {
  trainAccuracy: number;
  data: { trainSeed: number; permutationSeed: number };
};

/** The script's labels: the true labels under a seeded Fisher–Yates permutation. */
function permuted(labels: Int32Array, seed: number): number[] {
  const rng = createRng(seed, 0);
  const out = Array.from(labels);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function load(): Promise<tf.LayersModel> {
  const file = zooModel('shapes-permuted').tfjs;
  const json = JSON.parse(readFileSync(file, 'utf8')) as tf.io.ModelJSON;
  const bin = readFileSync(join(dirname(file), json.weightsManifest[0].paths[0]));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('shapes-permuted', () => {
  it('has memorised its permuted training labels (≥ 95%) and knows nothing of the true classes', async () => {
    const model = await load();
    const train = shapesDataset({ count: meta.trainCount, seed: meta.data.trainSeed });
    const labels = permuted(train.labels, meta.data.permutationSeed);
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
