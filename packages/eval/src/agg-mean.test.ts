import { defineExplainer, explain, Registry, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { batch, linearModel } from '../test/fixtures.js';
import { aggMean } from './agg-mean.js';
import { aggVar } from './agg-var.js';

/** A test explainer returning a fixed pixel map per item, scaled by `scale`. */
const fixed = (id: string, map: Tensor, scale = 1) =>
  defineExplainer<Record<never, never>>({
    id,
    family: 'other',
    title: id,
    citation: 'test',
    description: 'test',
    requires: [],
    mapKind: 'pixel',
    defaults: {},
    options: {},
    async attribute() {
      return { map: { data: map.data.map((v) => v * scale), shape: map.shape } };
    },
  });

describe('agg-mean and agg-var', () => {
  const { model } = linearModel({ h: 4, w: 4 });
  const input = batch(model, 2, 1);
  // Already normalised (max |value| = 1 per item), so normalisation leaves it as it is.
  const map: Tensor = {
    data: Float32Array.from({ length: 32 }, (_, e) => (e % 16 === 5 ? -1 : ((e * 7) % 11) / 11)),
    shape: [2, 4, 4],
  };
  const registry = new Registry([fixed('a', map), fixed('b', map), fixed('c', map, 3), aggMean, aggVar]);

  it('AGG-Mean of two identical maps is that map, and AGG-Var is 0', async () => {
    const mean = await explain(aggMean, model, input, 0, { methods: ['a', 'b'], registry });
    expect(Array.from(mean.map.data)).toEqual(Array.from(map.data));
    expect(mean.mapKind).toBe('pixel');
    const variance = await explain(aggVar, model, input, 0, { methods: 'a+b', registry });
    expect(variance.map.data.every((v) => v === 0)).toBe(true);
  });

  it('normalises each map per item before combining, so units do not matter', async () => {
    const scaled = await explain(aggMean, model, input, 0, { methods: 'a+c', registry });
    expect(Array.from(scaled.map.data)).toEqual(Array.from(map.data));
    const raw = await explain(aggVar, model, input, 0, { methods: 'a+c', normalize: 'none', registry });
    // Per pixel the two values are v and 3v: variance (v − 2v)² = v².
    raw.map.data.forEach((v, e) => {
      expect(v).toBeCloseTo(map.data[e] ** 2, 6);
    });
  });

  it('checks its methods before running any', async () => {
    await expect(explain(aggMean, model, input, 0, { methods: [], registry })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(explain(aggMean, model, input, 0, { methods: 'a+nope', registry })).rejects.toMatchObject({
      code: 'unknown-method',
    });
  });
});
