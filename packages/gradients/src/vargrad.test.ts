import { defineExplainer, type Explainer, Registry, zipWith } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { gradientMethods } from './index.js';
import { smoothgrad } from './smoothgrad.js';
import { vargrad } from './vargrad.js';

/** The squared gradient, as a method (not a plain gradient: runs per sample). */
const squaredGradient: Explainer<Record<never, never>> = defineExplainer<Record<never, never>>({
  ...gradient,
  id: 'squared-gradient',
  async attribute(ctx) {
    const g = (await ctx.gradient({ input: ctx.input })).inputGradient!;
    return { map: zipWith(g, g, (a, b) => a * b) };
  },
});

describe('vargrad', () => {
  const model = referenceModel(tinyCnn());
  const x = randomTensor([2, 3, 8, 8], 91);

  it('is E[g²] − E[g]² over the same noise as SmoothGrad', async () => {
    const registry = new Registry([...gradientMethods, squaredGradient]);
    const opts = { samples: 6, sigma: 0.2, seed: 9 };
    const v = await vargrad.explain(model, x, [0, 1], opts);
    const mean = await smoothgrad.explain(model, x, [0, 1], opts);
    const meanSq = await smoothgrad.explain(model, x, [0, 1], {
      ...opts,
      base: 'squared-gradient',
      registry,
    });
    const expected = zipWith(meanSq.map, mean.map, (s, m) => s - m * m);
    expect(maxAbsDiff(v.map, expected)).toBeLessThan(1e-4 * Math.max(1, maxAbs(v.map)));
    expect(Math.min(...v.map.data)).toBeGreaterThanOrEqual(0);
    expect(maxAbs(v.map)).toBeGreaterThan(0);
  });

  it('is exactly zero for σ = 0 and keeps the base map kind', async () => {
    const v = await vargrad.explain(model, x, 0, { sigma: 0, base: 'saliency' });
    expect(v.mapKind).toBe('pixel');
    expect(v.map.shape).toEqual([2, 8, 8]);
    expect(maxAbs(v.map)).toBe(0);
  });
});
