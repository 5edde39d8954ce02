import { Registry, type Tensor, toChannelsLast } from '@xlens/core';
import { referenceModel, tinyCnn, tinyDense } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { gradientMethods } from './index.js';

describe('gradient', () => {
  it('matches central finite differences of the target logit', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomTensor([1, 3, 8, 8], 11);
    const target = 2;
    const { map } = await gradient.explain(model, x, target);
    // The net is piecewise linear: a difference is exact unless a ReLU or max-pool switch lies
    // within h of the point, which shows as one-sided differences that disagree. Such a point is
    // skipped (at most one of the six may be).
    const h = 1e-3;
    const score = async (t: Tensor) => (await model.forward(t)).data[target];
    const at = await score(x);
    let kinks = 0;
    for (const index of [0, 17, 64, 100, 150, 191]) {
      const plus = { data: x.data.slice(), shape: x.shape };
      const minus = { data: x.data.slice(), shape: x.shape };
      plus.data[index] += h;
      minus.data[index] -= h;
      const right = ((await score(plus)) - at) / h;
      const left = (at - (await score(minus))) / h;
      if (Math.abs(right - left) > 5e-4) {
        kinks++;
        continue;
      }
      expect(map.data[index]).toBeCloseTo((right + left) / 2, 3);
    }
    expect(kinks).toBeLessThanOrEqual(1);
  });

  it('explains every item with its own target, as one by one', async () => {
    const model = referenceModel(tinyDense());
    const x = randomTensor([3, 2, 4, 4], 12);
    const batch = await gradient.explain(model, x, [0, 2, 1]);
    for (const [i, c] of [0, 2, 1].entries()) {
      const one = await gradient.explain(model, itemOf(x, i), c);
      expect(maxAbsDiff(itemOf(batch.map, i), one.map)).toBe(0);
    }
    expect(batch.targets).toEqual([0, 2, 1]);
  });

  it('returns maps in the model layout (NHWC = NCHW transposed)', async () => {
    const x = randomTensor([2, 3, 8, 8], 13);
    const nchw = await gradient.explain(referenceModel(tinyCnn()), x, 1);
    const nhwc = await gradient.explain(referenceModel(tinyCnn(), { layout: 'NHWC' }), toChannelsLast(x), 1);
    expect(nhwc.layout).toBe('NHWC');
    expect(maxAbsDiff(nhwc.map, toChannelsLast(nchw.map))).toBeLessThan(1e-6);
  });
});

describe('gradientMethods', () => {
  it('lists every method once, kebab-case, family gradients, with a dated citation', () => {
    const registry = new Registry(gradientMethods);
    expect(registry.list('gradients').map((m) => m.id)).toEqual([
      'gradient',
      'saliency',
      'gradient-x-input',
      'integrated-gradients',
      'smoothgrad',
      'vargrad',
      'noisegrad',
      'fusiongrad',
      'guided-backprop',
      'deconvnet',
      'fullgrad',
      'xrai',
    ]);
    for (const m of gradientMethods) expect(m.citation).toMatch(/(19|20)\d\d.*(arXiv:\d{4}\.\d{4,5}|doi)/i);
  });
});
