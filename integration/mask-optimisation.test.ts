// The mask optimisations of @xlens/perturbation on the zoo shapes model, on tfjs and ONNX Runtime.
// Their masks come from tens to hundreds of gradient steps, so the two runtimes' float rounding
// (relative 1e-6 in one gradient) can move a mask value by more than that — most where the score
// saturates and Adam normalises a near-zero gradient. We require the same mask within a mean
// absolute difference of 0.01 and a max-abs of 0.1 (masks lie in [0, 1]), and the same region
// (IoU of mask > 0.5 at least 0.9).
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import type { Model, Tensor } from '@xlens/core';
import { extremalPerturbation, fgvis, meaningfulPerturbation } from '@xlens/perturbation';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Tolerances of the same mask on two runtimes (masks in [0, 1]). */
const MEAN_TOLERANCE = 0.01;
const MAX_TOLERANCE = 0.1;

const meanAbs = (a: Tensor, b: Tensor) =>
  a.data.reduce((m, v, i) => m + Math.abs(v - b.data[i]), 0) / a.data.length;
const maxAbs = (a: Tensor, b: Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < a.length; p++) {
    if (a[p] > 0.5 && b[p] > 0.5) inter++;
    if (a[p] > 0.5 || b[p] > 0.5) union++;
  }
  return union === 0 ? 1 : inter / union;
}

describe('shapes: mask optimisations give the same mask on tfjs and ONNX Runtime', () => {
  let onTfjs: Model;
  let onOnnx: Model;
  let images: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    onTfjs = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
    onOnnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
    images = sampleImages('shapes', 2).images;
  });
  afterAll(async () => {
    await onTfjs.dispose();
    await onOnnx.dispose();
  });

  const cases = [
    [meaningfulPerturbation, { steps: 25, score: 'softmax' }],
    [meaningfulPerturbation, { steps: 25, objective: 'preservation', score: 'softmax' }],
    [extremalPerturbation, { steps: 25, areas: [0.1] }],
    [fgvis, { steps: 6, score: 'softmax' }],
  ] as const;
  for (const [method, options] of cases) {
    it(`${method.id} ${JSON.stringify(options)}`, async () => {
      const before = tf.memory().numTensors;
      const run = { ...options, batchSize: 32 } as Record<string, unknown>;
      const a = await method.explain(onTfjs, images, 'top1', run);
      const b = await method.explain(onOnnx, images, 'top1', run);
      expect(tf.memory().numTensors).toBe(before);
      expect(a.targets).toEqual(b.targets);
      expect(meanAbs(a.map, b.map)).toBeLessThan(MEAN_TOLERANCE);
      expect(maxAbs(a.map, b.map)).toBeLessThan(MAX_TOLERANCE);
      for (let i = 0; i < 2; i++) {
        const pa = a.map.data.subarray(i * 4096, (i + 1) * 4096);
        const pb = b.map.data.subarray(i * 4096, (i + 1) * 4096);
        expect(iou(pa, pb)).toBeGreaterThanOrEqual(0.9);
      }
    });
  }
});
