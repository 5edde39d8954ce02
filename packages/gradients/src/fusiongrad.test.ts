import { createSampleRng, multiplicativeNoise, type Tensor } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { countingModel, itemOf, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { fusiongrad } from './fusiongrad.js';
import { gradient } from './gradient.js';
import { gradientXInput } from './gradient-x-input.js';
import { noisegrad } from './noisegrad.js';
import { smoothgrad } from './smoothgrad.js';

describe('fusiongrad', () => {
  const model = referenceModel(tinyCnn());
  const x = randomTensor([2, 3, 8, 8], 111);

  it('without weight noise is SmoothGrad; without input noise is NoiseGrad (same seed)', async () => {
    const opts = { seed: 4, base: 'gradient-x-input' };
    const noWeights = await fusiongrad.explain(model, x, 1, {
      ...opts,
      sigma: 0,
      samples: 3,
      inputSigma: 0.1,
    });
    const sg = await smoothgrad.explain(model, x, 1, { ...opts, samples: 3, sigma: 0.1 });
    expect(maxAbsDiff(noWeights.map, sg.map)).toBe(0);
    const noInput = await fusiongrad.explain(model, x, 1, { ...opts, models: 2, sigma: 0.3, inputSigma: 0 });
    const ng = await noisegrad.explain(model, x, 1, { ...opts, models: 2, sigma: 0.3 });
    expect(maxAbsDiff(noInput.map, ng.map)).toBe(0);
    const none = await fusiongrad.explain(model, x, 1, { ...opts, sigma: 0, inputSigma: 0 });
    expect(maxAbsDiff(none.map, (await gradientXInput.explain(model, x, 1)).map)).toBe(0);
  });

  it('uses both noises, deterministically, disposing every derived model', async () => {
    const counted = countingModel(model);
    const seen: number[] = [];
    const opts = {
      models: 2,
      samples: 2,
      seed: 8,
      onProgress: (p: { done: number; total: number }) => seen.push(p.done, p.total),
    };
    const a = await fusiongrad.explain(counted.model, x, 0, opts);
    const b = await fusiongrad.explain(model, x, 0, { ...opts, onProgress: undefined });
    const c = await fusiongrad.explain(model, x, 0, { ...opts, onProgress: undefined, seed: 9 });
    expect(maxAbsDiff(a.map, b.map)).toBe(0);
    expect(maxAbsDiff(a.map, c.map)).toBeGreaterThan(1e-4);
    expect(counted.derived()).toBe(2);
    expect(counted.disposed()).toBe(2);
    expect(seen).toEqual([4, 8, 8, 8]);
  });

  it('gives model m the weight noise of sampleRng(2, m) and input samples m·samples + s of stream 100', async () => {
    const seed = 3;
    const [models, samples, sigma, inputSigma] = [2, 2, 0.3, 0.1];
    const xi = itemOf(x, 1);
    const r = await fusiongrad.explain(model, xi, 4, { seed, models, samples, sigma, inputSigma });
    const range = Math.max(...xi.data) - Math.min(...xi.data);
    const mean = new Float64Array(xi.data.length);
    for (let m = 0; m < models; m++) {
      const derived = await model.derive!(
        multiplicativeNoise(sigma, createSampleRng(seed, 2, m).int(2 ** 31)),
      );
      for (let s = 0; s < samples; s++) {
        const z = createSampleRng(seed, 100, m * samples + s).fillNormal(new Float64Array(xi.data.length));
        const noisy: Tensor = {
          data: xi.data.map((v, j) => v + inputSigma * range * z[j]),
          shape: xi.shape,
        };
        const g = await gradient.explain(derived, noisy, 4);
        for (let e = 0; e < mean.length; e++) mean[e] += g.map.data[e] / (models * samples);
      }
    }
    expect(maxAbsDiff(r.map, { data: Float32Array.from(mean), shape: xi.shape })).toBeLessThan(1e-6);
  });
});
