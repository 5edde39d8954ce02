import { createRng } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { relevanceRank } from './relevance-rank.js';

describe('relevance-rank', () => {
  it('is 1 for a map equal to the mask', async () => {
    const mask = new Float32Array(64);
    createRng(3).fillUniform(mask);
    const binary = mask.map((v) => (v > 0.6 ? 1 : 0));
    const t = { data: binary, shape: [1, 8, 8] };
    expect((await relevanceRank.evaluate({ maps: t, masks: t })).scores).toEqual([1]);
  });

  it('is the share of the K most relevant pixels inside the mask of K pixels', async () => {
    const maps = { data: Float32Array.from([5, 4, 3, 2, 1, 0]), shape: [1, 2, 3] };
    const masks = { data: Float32Array.from([1, 0, 1, 0, 1, 0]), shape: [1, 2, 3] };
    // Top 3 are pixels 0, 1, 2: two in the mask.
    expect((await relevanceRank.evaluate({ maps, masks })).scores[0]).toBeCloseTo(2 / 3, 12);
    const signed = { data: Float32Array.from([-9, 4, 3, 2, 1, 0]), shape: [1, 2, 3] };
    expect((await relevanceRank.evaluate({ maps: signed, masks })).scores[0]).toBeCloseTo(1 / 3, 12);
    expect((await relevanceRank.evaluate({ maps: signed, masks }, { values: 'abs' })).scores[0]).toBeCloseTo(
      2 / 3,
      12,
    );
  });
});
