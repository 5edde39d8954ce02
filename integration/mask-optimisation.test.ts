// The mask optimisations of @xlens/perturbation on the zoo shapes model, on tfjs and ONNX Runtime.
// Their masks come from tens to hundreds of gradient steps, so the two runtimes' float rounding
// (relative 1e-6 in one gradient) can move a mask value by more than that — most where the score
// saturates and Adam normalises a near-zero gradient. We require the same mask within a mean
// absolute difference of 0.01 and a max-abs of 0.1 (masks lie in [0, 1]), and the same region
// (IoU of mask > 0.5 at least 0.9).
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { fromFunction, gaussianBlur, item, type Model, type Tensor } from '@xlens/core';
import { extremalPerturbation, fgvis, meaningfulPerturbation, realTimeSaliency } from '@xlens/perturbation';
import { sampleImages, zooMaskerPath, zooModelPath } from '@xlens/zoo';
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

/** Softmax probability of `target` for each row of logits. */
function probabilities(logits: Tensor, targets: readonly number[]): number[] {
  const k = logits.shape[1];
  return targets.map((t, i) => {
    const row = logits.data.subarray(i * k, (i + 1) * k);
    const top = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - top), 0);
    return Math.exp(row[t] - top) / z;
  });
}

describe('real-time saliency with the zoo shapes-masker', () => {
  let classifier: Model;
  let onOnnx: Model;
  let masker: Model;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    classifier = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
    onOnnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
    masker = await loadTfjsModel(zooMaskerPath(), { name: 'shapes-masker' });
  });
  afterAll(async () => {
    await classifier.dispose();
    await onOnnx.dispose();
    await masker.dispose();
  });

  // The issue asks for at least 80% of the per-image optimised masks' SSR score, which the shipped
  // masker reaches on these six images (about 80.6%: 0.747 against 0.928; its triangle channel is
  // still empty, so that image keeps only what its blur keeps: see the zoo README). A masker that
  // predicts empty or random masks fails (the blurred images alone keep 0.1–0.4).
  it('predicts, in one masker pass, masks whose SSR score on held-out images is at least 80% of per-image optimised masks', async () => {
    // Held-out: the sample images' seed is neither the masker's training nor its test seed.
    const { images, labels } = sampleImages('shapes', 6);
    const targets = Array.from(labels);
    let passes = 0;
    const counted = fromFunction(
      (x) => {
        passes++;
        return masker.forward(x);
      },
      { ...masker.info },
    );
    const rt = await realTimeSaliency.explain(classifier, images, targets, {
      masker: counted,
      batchSize: 32,
    });
    expect(passes).toBe(1);
    // The same masks when the classifier runs on ONNX Runtime (the masker is what runs).
    const onnxRt = await realTimeSaliency.explain(onOnnx, images, targets, { masker, batchSize: 32 });
    expect(Array.from(onnxRt.map.data)).toEqual(Array.from(rt.map.data));

    // SSR score (the preservation game of Fong & Vedaldi and of the masker's objective): the target
    // probability when only the mask is kept and the rest blurred (σ = 5, as in training).
    const blurred = gaussianBlur(images, 5, 'NHWC');
    const preservedScore = async (maps: Tensor): Promise<number[]> => {
      const x = new Float32Array(images.data.length);
      for (let e = 0; e < x.length; e++) {
        const m = maps.data[Math.floor(e / 3)];
        x[e] = blurred.data[e] + m * (images.data[e] - blurred.data[e]);
      }
      return probabilities(await classifier.forward({ data: x, shape: images.shape }), targets);
    };
    const rtScores = await preservedScore(rt.map);
    // Per-image optimised masks of the same area: extremal perturbation (preservation, softmax).
    const optMaps = new Float32Array(rt.map.data.length);
    for (let i = 0; i < targets.length; i++) {
      const area = Math.min(0.9, Math.max(0.02, rt.extras.maskArea[i]));
      const opt = await extremalPerturbation.explain(classifier, item(images, i), targets[i], {
        areas: [area],
        steps: 60,
        score: 'softmax',
        fill: 'blur',
        blurSigma: 5,
        batchSize: 32,
      });
      optMaps.set(opt.map.data, i * 4096);
    }
    const optScores = await preservedScore({ data: optMaps, shape: rt.map.shape });
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const shown = `masker ${rtScores.map((v) => v.toFixed(3))} optimised ${optScores.map((v) => v.toFixed(3))}`;
    expect(mean(rtScores), shown).toBeGreaterThanOrEqual(0.8 * mean(optScores));
    // And the masks are small: a mask of the whole image would keep the score trivially.
    expect(mean(rt.extras.maskArea as number[])).toBeLessThan(0.3);
  });
});
