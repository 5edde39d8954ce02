import { describe, expect, it } from 'vitest';
import { createRng, createSampleRng } from './random.js';

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

describe('createSampleRng', () => {
  const first = (seed: number, stream: number, sample: number): number[] => {
    const r = createSampleRng(seed, stream, sample);
    return Array.from({ length: 4 }, () => r.normal());
  };
  it('depends on (seed, stream, sample) only, and each of them changes the draws', () => {
    expect(first(7, 1, 3)).toEqual(first(7, 1, 3));
    expect(first(7, 1, 3)).not.toEqual(first(8, 1, 3));
    expect(first(7, 1, 3)).not.toEqual(first(7, 2, 3));
    expect(first(7, 1, 3)).not.toEqual(first(7, 1, 4));
  });
  it('gives uncorrelated first draws across consecutive samples', () => {
    const xs = Array.from({ length: 2000 }, (_, s) => createSampleRng(0, 0, s).uniform());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    let lag = 0;
    let v = 0;
    for (let i = 0; i < xs.length; i++) {
      v += (xs[i] - mean) ** 2;
      if (i > 0) lag += (xs[i] - mean) * (xs[i - 1] - mean);
    }
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(lag / v)).toBeLessThan(0.08);
  });
});
