import { describe, expect, it } from 'vitest';
import { energyPointingGame } from './energy-pointing-game.js';

describe('energy-pointing-game', () => {
  it('is the share of positive energy inside the ground-truth box', async () => {
    // 3×3 map; box = top-left 2×2.
    const maps = { data: Float32Array.from([1, 2, 3, 4, -5, 6, 0, 0, 4]), shape: [1, 3, 3] };
    const got = await energyPointingGame.evaluate({ maps, boxes: [[0, 0, 2, 2]] });
    expect(got.scores[0]).toBeCloseTo(7 / 20, 12);
  });

  it('uses the tightest box around a mask', async () => {
    const maps = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 0, 0, 4]), shape: [1, 3, 3] };
    const diagonal = { data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0]), shape: [1, 3, 3] };
    expect((await energyPointingGame.evaluate({ maps, masks: diagonal })).scores[0]).toBeCloseTo(12 / 25, 12);
  });
});
