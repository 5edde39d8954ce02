import { explain, Registry, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { batch, constantExplainer, linearModel } from '../test/fixtures.js';
import { aggVar } from './agg-var.js';

describe('agg-var', () => {
  it('is zero for methods that agree and positive where they differ', async () => {
    const { model } = linearModel({ h: 4, w: 4 });
    const input = batch(model, 2, 1);
    const registry = new Registry([
      constantExplainer,
      { ...constantExplainer, id: 'test-constant-2' },
      aggVar,
    ]);
    const same = await explain(aggVar, model, input, 0, {
      methods: ['test-constant', 'test-constant-2'],
      registry,
    });
    expect(same.map.data.every((v) => v === 0)).toBe(true);
    const flipped = {
      ...constantExplainer,
      id: 'test-flipped',
      async attribute(ctx: Parameters<typeof constantExplainer.attribute>[0]) {
        const r = await constantExplainer.attribute(ctx);
        return { map: { data: (r.map as Tensor).data.map((v) => -v), shape: r.map.shape } };
      },
    };
    registry.register(flipped);
    const differ = await explain(aggVar, model, input, 0, {
      methods: 'test-constant+test-flipped',
      registry,
    });
    // Each pixel: v and −v after max-abs scaling: variance v².
    expect(differ.map.data[15]).toBeCloseTo(1, 6);
    expect(differ.map.data[0]).toBe(0);
  });
});
