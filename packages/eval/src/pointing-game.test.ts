import { describe, expect, it } from 'vitest';
import { pointingGame } from './pointing-game.js';

/** A 20×20 map with its maximum at (x, y). */
function peak(x: number, y: number): Float32Array {
  const m = new Float32Array(400).fill(0.1);
  m[y * 20 + x] = 1;
  return m;
}

const maps = (...planes: Float32Array[]) => {
  const data = new Float32Array(planes.length * 400);
  for (const [i, p] of planes.entries()) data.set(p, i * 400);
  return { data, shape: [planes.length, 20, 20] };
};

describe('pointing-game', () => {
  it('hits when the maximum is on the ground truth or within the tolerance', async () => {
    const box: [number, number, number, number] = [5, 5, 10, 10];
    const m = maps(peak(7, 7), peak(12, 7), peak(19, 19), peak(12, 12));
    // (12, 7) is 3 px right of the box; (12, 12) is √18 ≈ 4.24 px from its corner (9, 9).
    expect((await pointingGame.evaluate({ maps: m, boxes: [box] }, { tolerance: 0 })).scores).toEqual([
      1, 0, 0, 0,
    ]);
    expect((await pointingGame.evaluate({ maps: m, boxes: [box] }, { tolerance: 2.9 })).scores).toEqual([
      1, 0, 0, 0,
    ]);
    expect((await pointingGame.evaluate({ maps: m, boxes: [box] }, { tolerance: 3 })).scores).toEqual([
      1, 1, 0, 0,
    ]);
    expect((await pointingGame.evaluate({ maps: m, boxes: [box] }, { tolerance: 4.3 })).scores).toEqual([
      1, 1, 0, 1,
    ]);
    // The paper's 15-pixel tolerance reaches (19, 19) from (9, 9): √200 ≈ 14.1.
    const paper = await pointingGame.evaluate({ maps: m, boxes: [box] });
    expect(paper.scores).toEqual([1, 1, 1, 1]);
    expect(paper.options.tolerance).toBe(15);
  });

  it('counts any of several tied maxima, and uses the mask, not its box', async () => {
    const mask = new Float32Array(400);
    mask[0] = 1;
    mask[399] = 1; // box of this mask is the whole image, the mask two corners
    const tied = new Float32Array(400);
    tied[10 * 20 + 10] = 1;
    tied[399] = 1;
    const centre = peak(10, 10);
    const got = await pointingGame.evaluate(
      { maps: maps(tied, centre), masks: { data: mask, shape: [20, 20] } },
      { tolerance: 0 },
    );
    expect(got.scores).toEqual([1, 0]);
  });

  it('has no score for an empty ground truth', async () => {
    const got = await pointingGame.evaluate({
      maps: maps(peak(1, 1)),
      masks: { data: new Float32Array(400), shape: [1, 20, 20] },
    });
    expect(got.scores[0]).toBeNaN();
    expect(got.summary.count).toBe(0);
  });
});
