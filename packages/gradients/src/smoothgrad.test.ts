import { createSampleRng, defineExplainer, Registry, type Tensor } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, linearCnn, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { gradientMethods } from './index.js';
import { integratedGradients } from './integrated-gradients.js';
import { saliency } from './saliency.js';
import { smoothgrad } from './smoothgrad.js';

describe('smoothgrad', () => {
  const model = referenceModel(tinyCnn());
  const x = randomTensor([2, 3, 8, 8], 81);

  it('with σ = 0 is exactly its base (gradient by default, saliency, integrated gradients)', async () => {
    expect(
      maxAbsDiff(
        (await smoothgrad.explain(model, x, 1, { sigma: 0 })).map,
        (await gradient.explain(model, x, 1)).map,
      ),
    ).toBe(0);
    const s = await smoothgrad.explain(model, x, 1, {
      sigma: 0,
      base: 'saliency',
      baseOptions: { reduce: 'l2' },
    });
    expect(s.mapKind).toBe('pixel');
    expect(maxAbsDiff(s.map, (await saliency.explain(model, x, 1, { reduce: 'l2' })).map)).toBe(0);
    const i = await smoothgrad.explain(model, x, 1, {
      sigma: 0,
      base: 'integrated-gradients',
      baseOptions: { steps: 4 },
    });
    expect(maxAbsDiff(i.map, (await integratedGradients.explain(model, x, 1, { steps: 4 })).map)).toBe(0);
  });

  it('is deterministic for a seed and changes with it', async () => {
    const a = await smoothgrad.explain(model, x, 0, { samples: 4, seed: 3 });
    const b = await smoothgrad.explain(model, x, 0, { samples: 4, seed: 3 });
    const c = await smoothgrad.explain(model, x, 0, { samples: 4, seed: 4 });
    expect(maxAbsDiff(a.map, b.map)).toBe(0);
    expect(maxAbsDiff(a.map, c.map)).toBeGreaterThan(1e-3);
    expect(a.options).toMatchObject({ base: 'gradient', samples: 4, sigma: 0.15, seed: 3 });
  });

  it('streams plain gradient bases exactly like running any base per sample (same noise)', async () => {
    // A copy of `gradient` is not recognised as a plain gradient, so it runs through ctx.run per sample.
    const copy = defineExplainer({ ...gradient, id: 'gradient-copy' });
    const registry = new Registry([...gradientMethods, copy]);
    const seen: number[] = [];
    const batched = await smoothgrad.explain(model, x, [2, 3], {
      samples: 5,
      batchSize: 4,
      onProgress: (p) => seen.push(p.done),
    });
    const perSample = await smoothgrad.explain(model, x, [2, 3], {
      samples: 5,
      base: 'gradient-copy',
      registry,
    });
    expect(maxAbsDiff(batched.map, perSample.map)).toBe(0);
    expect(seen).toEqual([4, 8, 10]);
  });

  it('draws sample s as one noise z_s from (seed, s) only, scaled per item: x_i + σ·range_i·z_s', async () => {
    const samples = 3;
    const sigma = 0.2;
    const seed = 7;
    const targets = [2, 3];
    const batch = await smoothgrad.explain(model, x, targets, { samples, sigma, seed, batchSize: 3 });
    const per = 3 * 8 * 8;
    for (let i = 0; i < 2; i++) {
      const xi = itemOf(x, i);
      const range = Math.max(...xi.data) - Math.min(...xi.data);
      const mean = new Float64Array(per);
      for (let s = 0; s < samples; s++) {
        // The input-noise stream of the SmoothGrad family is 100.
        const z = createSampleRng(seed, 100, s).fillNormal(new Float64Array(per));
        const noisy: Tensor = { data: new Float32Array(per), shape: xi.shape };
        for (let j = 0; j < per; j++) noisy.data[j] = xi.data[j] + sigma * range * z[j];
        const g = (await gradient.explain(model, noisy, targets[i])).map;
        for (let j = 0; j < per; j++) mean[j] += g.data[j] / samples;
      }
      expect(
        maxAbsDiff(itemOf(batch.map, i), { data: Float32Array.from(mean), shape: xi.shape }),
      ).toBeLessThan(1e-6);
    }
  });

  it('averages the gradient over noise: an affine net keeps its constant gradient', async () => {
    const affine = referenceModel(linearCnn());
    const input = randomTensor([1, 2, 4, 4], 82);
    const sg = await smoothgrad.explain(affine, input, 1, { samples: 3, sigma: 0.5 });
    expect(maxAbsDiff(sg.map, (await gradient.explain(affine, input, 1)).map)).toBeLessThan(1e-5);
  });

  it('rejects an unknown base, bad base options and non-object baseOptions', async () => {
    await expect(smoothgrad.explain(model, x, 0, { base: 'nope' })).rejects.toThrow(
      /unknown base method "nope".*gradient, saliency/,
    );
    await expect(
      smoothgrad.explain(model, x, 0, { base: 'nope', registry: new Registry(gradientMethods) }),
    ).rejects.toMatchObject({ code: 'unknown-method' });
    await expect(
      smoothgrad.explain(model, x, 0, { base: 'saliency', baseOptions: { steps: 3 } }),
    ).rejects.toThrow(/saliency has no option "steps"/);
    await expect(smoothgrad.explain(model, x, 0, { baseOptions: [1] as never })).rejects.toThrow(
      /baseOptions/,
    );
    await expect(smoothgrad.explain(model, x, 0, { sigma: -1 })).rejects.toThrow(/sigma = -1/);
  });
});
