import type { AnyMetric, Box, EvaluateRequest, Evaluation } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { batch, gradientTimesInput, noisyGradient, randomMaps, slice } from '../test/fixtures.js';
import { evalMetrics } from './index.js';

// Small options so the loop stays quick; chunks of 4 rows straddle items for every metric.
const options: Record<string, Record<string, unknown>> = {
  deletion: { steps: 7, fill: 'uniform' },
  insertion: { steps: 7 },
  'pixel-flipping': { steps: 9 },
  'region-perturbation': { regionSize: 3, steps: 5 },
  selectivity: { patchSize: 3, fill: 'blur', blurSigma: 1 },
  'sensitivity-n': { sizes: [0.1, 0.5], subsets: 6, fill: 'uniform' },
  infidelity: { samples: 5, perturbation: 'noise' },
  road: { percentages: [0.2, 0.6], measure: 'probability' },
  'max-sensitivity': { samples: 3 },
  'avg-sensitivity': { samples: 3 },
  'local-lipschitz': { samples: 3 },
  continuity: { steps: 3, stepPixels: 0.5 },
  'hyperparameter-sensitivity': { seeds: [0, 1], grid: { samples: [1, 2] } },
  hog: { cellSize: 4 },
  'top-k-intersection': { fraction: 0.2 },
  ssim: { sigma: 1 },
};

const model = referenceModel(tinyCnn(), { layout: 'NHWC', inputRange: [0, 1] });
const input = batch(model, 3, 21);
const maps = randomMaps(3, 8, 8, 22);
const reference = randomMaps(3, 8, 8, 23);
const boxes: Box[] = [
  [1, 1, 5, 6],
  [2, 0, 8, 4],
  [0, 3, 3, 8],
];
const targets = [0, 3, 1];

function request(metric: AnyMetric, start: number, end: number): EvaluateRequest {
  const explainer = metric.id === 'hyperparameter-sensitivity' ? noisyGradient : gradientTimesInput;
  return {
    model,
    input: slice(input, start, end),
    target: targets.slice(start, end),
    maps: slice(maps, start, end),
    reference: slice(reference, start, end),
    boxes: boxes.slice(start, end),
    explainer,
  };
}

const same = (a: Evaluation, b: Evaluation, item: number): void => {
  expect(Object.is(a.scores[item], b.scores[0]) || a.scores[item] === b.scores[0]).toBe(true);
  if (a.curves) expect(b.curves?.[0]).toEqual(a.curves[item]);
  for (const [k, v] of Object.entries(a.extras)) expect(b.extras[k][0]).toBe(v[item]);
};

describe('every metric (ADR 0003)', () => {
  it('covers the whole package', () => {
    expect(evalMetrics.length).toBe(27);
    expect(new Set(evalMetrics.map((m) => m.id)).size).toBe(evalMetrics.length);
  });

  for (const metric of evalMetrics) {
    it(`${metric.id}: a batch gives every item its score alone, and a seed fixes the scores`, async () => {
      const run = { ...options[metric.id], seed: 5, batchSize: 4 };
      const whole = await metric.evaluate(request(metric, 0, 3), run);
      expect(whole.scores).toHaveLength(3);
      expect(whole.scores.some(Number.isFinite)).toBe(true);
      for (let i = 0; i < 3; i++) same(whole, await metric.evaluate(request(metric, i, i + 1), run), i);
      const again = await metric.evaluate(request(metric, 0, 3), { ...run, batchSize: 1 });
      expect(again.scores).toEqual(whole.scores);
      expect(again.curves).toEqual(whole.curves);
    });
  }
});
