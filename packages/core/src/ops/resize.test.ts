import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor.js';
import { createRng } from './random.js';
import { resizeBilinear } from './resize.js';

const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;

describe('resizeBilinear', () => {
  it('is the identity at the same size', () => {
    const t = tensor(createRng(1).fillUniform(new Float32Array(2 * 5 * 7)), [2, 5, 7]);
    expect(Array.from(resizeBilinear(t, 5, 7).data)).toEqual(Array.from(t.data));
  });
  it('2×2 → 4×4 gives the half-pixel-centre values', () => {
    const out = resizeBilinear(tensor([0, 1, 2, 3], [1, 2, 2]), 4, 4);
    expect(out.shape).toEqual([1, 4, 4]);
    expect(Array.from(out.data)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
  });
  it('keeps the mean for integer up- and down-scaling, per plane of N×C×h×w', () => {
    const t = tensor(createRng(2).fillUniform(new Float32Array(2 * 3 * 4 * 4)), [2, 3, 4, 4]);
    for (const [h, w] of [
      [12, 12],
      [8, 16],
      [2, 2],
    ]) {
      const out = resizeBilinear(t, h, w);
      expect(out.shape).toEqual([2, 3, h, w]);
      for (let p = 0; p < 6; p++) {
        expect(mean(out.data.subarray(p * h * w, (p + 1) * h * w))).toBeCloseTo(
          mean(t.data.subarray(p * 16, (p + 1) * 16)),
          5,
        );
      }
    }
  });
  it('rejects other ranks', () => {
    expect(() => resizeBilinear(tensor([1, 2], [2]), 2, 2)).toThrow(
      expect.objectContaining({ code: 'invalid-shape' }),
    );
  });
});
