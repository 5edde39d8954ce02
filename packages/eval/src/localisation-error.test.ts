import type { Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { localisationError } from './localisation-error.js';

/** A 10×10 map that is `value` on the half-open box [x0, y0, x1, y1) and 0 elsewhere. */
function blob(x0: number, y0: number, x1: number, y1: number, value = 1): Float32Array {
  const m = new Float32Array(100);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * 10 + x] = value;
  return m;
}

const maps = (...planes: Float32Array[]): Tensor => {
  const data = new Float32Array(planes.length * 100);
  for (const [i, p] of planes.entries()) data.set(p, i * 100);
  return { data, shape: [planes.length, 10, 10] };
};

describe('localisation-error', () => {
  it('is 0 when the 95%-energy box overlaps the ground truth with IoU > 0.5, 1 otherwise', async () => {
    const got = await localisationError.evaluate({
      maps: maps(blob(2, 2, 6, 6), blob(6, 6, 10, 10), blob(2, 2, 5, 6)),
      boxes: [[2, 2, 6, 6]],
    });
    // Item 3: box [2,2,5,6] of area 12 inside the truth of area 16: IoU 0.75.
    expect(got.scores).toEqual([0, 1, 0]);
    expect(got.extras.iou).toEqual([1, 0, 0.75]);
    expect(got.extras.boxArea).toEqual([0.16, 0.16, 0.12]);
    expect(got.direction).toBe('lower');
    expect(got.summary.mean).toBeCloseTo(1 / 3, 12);
  });

  it('keeps the most energetic pixels up to the energy fraction, and the IoU threshold is an option', async () => {
    // 96% of the energy on [0,0,4,4]; a faint tail of 4% spread over the rest of the image.
    const m = blob(0, 0, 4, 4, 6);
    for (let p = 0; p < 100; p++) if (m[p] === 0) m[p] = 4 / 84;
    const box: [number, number, number, number] = [0, 0, 4, 4];
    expect((await localisationError.evaluate({ maps: maps(m), boxes: [box] })).scores).toEqual([0]);
    // Asking for 99% of the energy pulls in ~63 tail pixels (rows 0–7 in pixel order): IoU ≈ 0.2.
    const wide = await localisationError.evaluate({ maps: maps(m), boxes: [box] }, { energy: 0.99 });
    expect(wide.scores).toEqual([1]);
    expect(wide.extras.iou[0]).toBeGreaterThan(0.15);
    expect(wide.extras.iou[0]).toBeLessThan(0.25);
    expect(
      (await localisationError.evaluate({ maps: maps(m), boxes: [box] }, { energy: 0.99, iou: 0.1 })).scores,
    ).toEqual([0]);
  });

  it('ignores negative evidence by default, counts it with values: abs, and derives boxes from masks', async () => {
    const m = blob(0, 0, 3, 3, 1);
    const neg = blob(5, 5, 10, 10, -1);
    for (let p = 0; p < 100; p++) m[p] += neg[p];
    const masks = maps(blob(0, 0, 3, 3));
    expect((await localisationError.evaluate({ maps: maps(m), masks })).scores).toEqual([0]);
    expect((await localisationError.evaluate({ maps: maps(m), masks }, { values: 'abs' })).scores).toEqual([
      1,
    ]);
  });

  it('has no score for a map without energy, and says why', async () => {
    const got = await localisationError.evaluate({ maps: maps(blob(0, 0, 3, 3, -1)), boxes: [[0, 0, 3, 3]] });
    expect(got.scores[0]).toBeNaN();
    expect(got.warnings[0]).toMatch(/no energy/);
  });

  it('validates boxes and masks before compute', async () => {
    const m = maps(blob(0, 0, 3, 3));
    await expect(localisationError.evaluate({ maps: m, boxes: [[0, 0, 11, 3]] })).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(localisationError.evaluate({ maps: m })).rejects.toThrow(/needs masks or boxes/);
    await expect(
      localisationError.evaluate({
        maps: m,
        masks: { data: new Float32Array(100).fill(0.5), shape: [1, 10, 10] },
      }),
    ).rejects.toThrow(/only 0 and 1/);
    await expect(
      localisationError.evaluate({ maps: m, boxes: [[0, 0, 3, 3]] }, { iou: 2 }),
    ).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });
});
