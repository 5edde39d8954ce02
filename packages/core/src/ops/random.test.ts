import { describe, expect, it } from 'vitest';
import { createRng } from './random.js';

const draw = (seed: number, stream = 0): number[] => {
  const r = createRng(seed, stream);
  return Array.from({ length: 8 }, () => r.uniform());
};

describe('createRng', () => {
  it('is deterministic per seed and stream, and differs across them', () => {
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1, 0)).not.toEqual(draw(1, 1));
  });
  it('uniforms lie in [0, 1) and ints in [0, n)', () => {
    const r = createRng(3);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });
  it('normals have mean ≈ 0 and variance ≈ 1; fills honour mean/std and bounds', () => {
    const x = createRng(4).fillNormal(new Float32Array(20000), 2, 3);
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    const v = x.reduce((s, y) => s + (y - m) ** 2, 0) / x.length;
    expect(m).toBeCloseTo(2, 1);
    expect(Math.sqrt(v)).toBeCloseTo(3, 1);
    const u = createRng(5).fillUniform(new Float32Array(100), -2, -1);
    expect(u.every((y) => y >= -2 && y < -1)).toBe(true);
  });
});
