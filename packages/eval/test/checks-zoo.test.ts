// The sanity checks on the zoo's shapes CNN, on TensorFlow.js (wasm) and on ONNX Runtime: the
// checks build their models with `derive` on each backend, so the two runtimes must report the
// same statistics, and tfjs must not leak tensors.
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import type { CheckReport, Model, Tensor } from '@xlens/core';
import { gradient, guidedBackprop } from '@xlens/gradients';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classSensitivity } from '../src/class-sensitivity.js';
import { dataRandomisation } from '../src/data-randomisation.js';
import { fragility } from '../src/fragility.js';
import { inputInvariance } from '../src/input-invariance.js';
import { modelRandomisation } from '../src/model-randomisation.js';
import { sobel } from './check-fixtures.js';

let tfjs: { model: Model; second: Model };
let onnx: { model: Model; second: Model };
let images: Tensor;

beforeAll(async () => {
  await initTfjsBackend('wasm');
  const range = { inputRange: [0, 1] as const };
  tfjs = {
    model: await loadTfjsModel(zooModelPath('shapes', 'tfjs'), range),
    // Same architecture, other weights: stands in for the permuted-label model here.
    second: await loadTfjsModel(zooModelPath('shapes-shortcut', 'tfjs'), range),
  };
  onnx = {
    model: await fromOnnx(zooModelPath('shapes', 'onnx'), range),
    second: await fromOnnx(zooModelPath('shapes-shortcut', 'onnx'), range),
  };
  images = sampleImages('shapes', 2).images;
});

afterAll(async () => {
  for (const m of [tfjs.model, tfjs.second, onnx.model, onnx.second]) await m.dispose();
});

/** Run on both backends (tfjs first, counting its tensors) and expect the same statistics. */
async function onBoth(
  run: (m: { model: Model; second: Model }) => Promise<CheckReport>,
): Promise<CheckReport> {
  const before = tf.memory().numTensors;
  const a = await run(tfjs);
  expect(tf.memory().numTensors).toBe(before);
  const b = await run(onnx);
  expect(b.verdict).toBe(a.verdict);
  expect(b.targets).toEqual(a.targets);
  for (const [key, value] of Object.entries(a.statistics))
    if (Number.isFinite(value)) expect(b.statistics[key], key).toBeCloseTo(value, 2);
  return a;
}

describe('sanity checks on the zoo shapes model, tfjs and ONNX', () => {
  it('model-randomisation: the same cascade on both backends; Sobel stays at 1, the gradient drops', async () => {
    const g = await onBoth(({ model }) =>
      modelRandomisation.run({ model, input: images, explainer: gradient }, { modes: 'cascading', seed: 3 }),
    );
    expect(g.curves[0].x).toEqual(['original', 'logits', 'conv4', 'conv3', 'conv2', 'conv1']);
    const s = await modelRandomisation.run(
      { model: onnx.model, input: images, explainer: sobel },
      { modes: 'cascading', seed: 3 },
    );
    expect(s.score).toBeCloseTo(1, 10);
    expect(g.score).toBeLessThan(s.score);
  });

  it('data-randomisation against a second model of the same architecture', async () => {
    const r = await onBoth(({ model, second }) =>
      dataRandomisation.run({ model, input: images, secondModel: second, explainer: gradient }),
    );
    expect(r.perItem['second-target']).toHaveLength(2);
  });

  it('input-invariance is undecided on a CNN whose first convolution pads with zeros, on both backends', async () => {
    const r = await onBoth(({ model }) => inputInvariance.run({ model, input: images, explainer: gradient }));
    expect(r.verdict).toBe('undecided');
    expect(r.statistics['logit-difference']).toBeGreaterThan(1e-3);
  });

  it('class-sensitivity for the gradient and Guided Backprop', async () => {
    for (const explainer of [gradient, guidedBackprop])
      await onBoth(({ model }) => classSensitivity.run({ model, input: images, explainer }));
  });

  it('fragility: the same attacks and results on both backends', async () => {
    await onBoth(({ model }) =>
      fragility.run(
        { model, input: images, explainer: gradient },
        { samples: 2, steps: 2, candidates: 3, seed: 2, batchSize: 8 },
      ),
    );
  });
});
