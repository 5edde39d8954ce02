import { defineExplainer } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { batch, gradientTimesInput, linearModel, noisyGradient } from '../test/fixtures.js';
import { hyperparameterSensitivity } from './hyperparameter-sensitivity.js';

/** A test explainer whose pixel map is the input's first channel plus seeded noise of σ. */
const noisyInput = defineExplainer<{ sigma: number }>({
  id: 'test-noisy-input',
  family: 'other',
  title: 'Noisy input (test)',
  citation: 'test',
  description: 'test',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: { sigma: 0.1 },
  options: { sigma: { type: 'number', doc: 'noise', min: 0 } },
  async attribute(ctx) {
    const [n, c, h, w] = ctx.input.shape;
    const z = ctx.sampleRng(1, 0).fillNormal(new Float32Array(h * w), 0, ctx.options.sigma);
    const map = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < h * w; p++) map[i * h * w + p] = ctx.input.data[i * c * h * w + p] + z[p];
    return { map: { data: map, shape: [n, h, w] } };
  },
});

describe('hyperparameter-sensitivity', () => {
  const { model } = linearModel({ classes: 2 });
  const input = batch(model, 2, 43);

  it('is 0 for a deterministic explainer over seeds', async () => {
    const got = await hyperparameterSensitivity.evaluate({ model, input, explainer: gradientTimesInput });
    expect(got.scores).toEqual([0, 0]);
  });

  it('is 0 for a gradient whose noise cannot change it (linear model), whatever the seed or σ', async () => {
    const got = await hyperparameterSensitivity.evaluate(
      { model, input, explainer: noisyGradient },
      { grid: { sigma: [0.1, 0.5], samples: [1, 3] } },
    );
    expect(got.scores).toEqual([0, 0]);
  });

  it('grows with how much the map depends on the seed', async () => {
    // The map is the input plus seeded noise of σ: seeds change it more as σ grows.
    const sensitive = (sigma: number) =>
      hyperparameterSensitivity.evaluate(
        { model, input, explainer: noisyInput, explainerOptions: { sigma } },
        { seeds: [0, 1, 2] },
      );
    const none = await sensitive(0);
    const low = await sensitive(0.05);
    const high = await sensitive(1);
    expect(none.scores).toEqual([0, 0]);
    for (let i = 0; i < 2; i++) {
      expect(low.scores[i]).toBeGreaterThan(0);
      expect(high.scores[i]).toBeGreaterThan(low.scores[i]);
    }
    const grid = await hyperparameterSensitivity.evaluate(
      { model, input, explainer: noisyInput },
      { seeds: [0], grid: { sigma: [0, 0.5, 1] }, similarity: 'ssim' },
    );
    expect(grid.scores.every((v) => v > 0)).toBe(true);
  });

  it('needs two settings to compare', async () => {
    await expect(
      hyperparameterSensitivity.evaluate({ model, input, explainer: gradientTimesInput }, { seeds: [0] }),
    ).rejects.toMatchObject({ code: 'invalid-option' });
  });
});
