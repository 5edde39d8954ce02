import { createSampleRng, multiplicativeNoise } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { countingModel, maxAbs, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { noisegrad } from './noisegrad.js';
import { saliency } from './saliency.js';

describe('noisegrad', () => {
  const x = randomTensor([2, 3, 8, 8], 101);

  it('averages over `models` derived models and disposes each', async () => {
    const counted = countingModel(referenceModel(tinyCnn()));
    const seen: number[] = [];
    const r = await noisegrad.explain(counted.model, x, 1, {
      models: 3,
      onProgress: (p) => seen.push(p.done),
    });
    expect(counted.derived()).toBe(3);
    expect(counted.disposed()).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(r.map.shape).toEqual(x.shape);
  });

  it('with σ = 0 is exactly its base and derives nothing', async () => {
    const counted = countingModel(referenceModel(tinyCnn()));
    const r = await noisegrad.explain(counted.model, x, 1, { sigma: 0, base: 'saliency' });
    expect(maxAbsDiff(r.map, (await saliency.explain(counted.model, x, 1)).map)).toBe(0);
    expect(r.mapKind).toBe('pixel');
    expect(counted.derived()).toBe(0);
  });

  it('is deterministic for a seed, changes with it, and tends to the gradient as σ → 0', async () => {
    const model = referenceModel(tinyCnn());
    const a = await noisegrad.explain(model, x, 2, { models: 2, seed: 1 });
    const b = await noisegrad.explain(model, x, 2, { models: 2, seed: 1 });
    const c = await noisegrad.explain(model, x, 2, { models: 2, seed: 2 });
    expect(maxAbsDiff(a.map, b.map)).toBe(0);
    expect(maxAbsDiff(a.map, c.map)).toBeGreaterThan(1e-4);
    const g = await gradient.explain(model, x, 2);
    const tiny = await noisegrad.explain(model, x, 2, { models: 2, sigma: 1e-4 });
    expect(maxAbsDiff(tiny.map, g.map)).toBeLessThan(1e-2 * maxAbs(g.map));
    expect(maxAbsDiff(a.map, g.map)).toBeGreaterThan(maxAbsDiff(tiny.map, g.map));
  });

  it('seeds model m from (seed, m) only: the mean of the base over models derived from sampleRng(2, m)', async () => {
    const model = referenceModel(tinyCnn());
    const seed = 6;
    const sigma = 0.3;
    const r = await noisegrad.explain(model, x, [1, 2], { models: 2, sigma, seed });
    const sum = new Float64Array(x.data.length);
    for (let m = 0; m < 2; m++) {
      const derived = await model.derive!(
        multiplicativeNoise(sigma, createSampleRng(seed, 2, m).int(2 ** 31)),
      );
      const g = await gradient.explain(derived, x, [1, 2]);
      for (let e = 0; e < sum.length; e++) sum[e] += g.map.data[e] / 2;
    }
    expect(maxAbsDiff(r.map, { data: Float32Array.from(sum), shape: x.shape })).toBeLessThan(1e-6);
  });
});
