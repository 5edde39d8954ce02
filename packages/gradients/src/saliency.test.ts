import { reduceChannels } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { saliency } from './saliency.js';

describe('saliency', () => {
  const model = referenceModel(tinyCnn());
  const x = randomTensor([2, 3, 8, 8], 21);

  it('is the max over channels of |gradient| by default (pixel map)', async () => {
    const g = await gradient.explain(model, x, 3);
    const s = await saliency.explain(model, x, 3);
    expect(s.mapKind).toBe('pixel');
    expect(s.map.shape).toEqual([2, 8, 8]);
    for (let p = 0; p < 2 * 64; p++) {
      const b = Math.floor(p / 64);
      const q = p % 64;
      const channels = [0, 1, 2].map((c) => Math.abs(g.map.data[(b * 3 + c) * 64 + q]));
      expect(s.map.data[p]).toBe(Math.max(...channels));
    }
  });

  it('signed keeps the sign of the largest-magnitude channel; sum is the raw channel sum', async () => {
    const g = await gradient.explain(model, x, 3);
    const signed = await saliency.explain(model, x, 3, { reduce: 'signed' });
    const maxAbs = await saliency.explain(model, x, 3);
    const sum = await saliency.explain(model, x, 3, { reduce: 'sum' });
    expect(maxAbsDiff({ data: signed.map.data.map(Math.abs), shape: signed.map.shape }, maxAbs.map)).toBe(0);
    expect([...signed.map.data].some((v) => v < 0)).toBe(true);
    expect(maxAbsDiff(sum.map, reduceChannels(g.map, 'NCHW', 'sum'))).toBeLessThan(1e-6);
  });

  it('rejects an unknown reduction naming the allowed ones', async () => {
    await expect(saliency.explain(model, x, 0, { reduce: 'median' as never })).rejects.toThrow(
      /max-abs, signed, sum, abs-sum, l2/,
    );
  });
});
