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

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, error < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('fillNormal (ziggurat)', () => {
  const n = 1 << 20;
  const x = createRng(11).fillNormal(new Float64Array(n));
  it('has the moments of a standard normal', () => {
    let m1 = 0;
    for (const v of x) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of x) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    // Standard errors at n = 2^20: mean 0.001, variance 0.0014, skewness 0.0024, kurtosis 0.0048.
    expect(Math.abs(m1)).toBeLessThan(0.005);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.007);
    expect(Math.abs(m3 / n / m2 ** 1.5)).toBeLessThan(0.012);
    expect(Math.abs(m4 / n / m2 ** 2 - 3)).toBeLessThan(0.025);
  });
  it('passes a Kolmogorov–Smirnov test against Φ, tail included', () => {
    const sorted = Float64Array.from(x).sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const c = normalCdf(sorted[i]);
      d = Math.max(d, Math.abs(c - i / n), Math.abs(c - (i + 1) / n));
    }
    // 1% critical value 1.63/√n; a misbuilt layer table shifts the CDF by ~1/128.
    expect(d).toBeLessThan(1.63 / Math.sqrt(n));
    // The base layer's tail beyond 3.4426: 2·(1 − Φ) = 5.76e-4 of draws, about 604 ± 25 here.
    const tail = x.reduce((k, v) => k + (Math.abs(v) > 3.442619855899 ? 1 : 0), 0);
    expect(Math.abs(tail / n - 2 * (1 - normalCdf(3.442619855899)))).toBeLessThan(1.2e-4);
    expect(sorted[0]).toBeLessThan(-4.2);
    expect(sorted[n - 1]).toBeGreaterThan(4.2);
  });
  it('is deterministic per seed, and float32 fills hold the float64 draws rounded', () => {
    const a = createRng(12).fillNormal(new Float64Array(1000));
    const b = createRng(12).fillNormal(new Float32Array(1000));
    expect(Array.from(b)).toEqual(Array.from(a, Math.fround));
    expect(Array.from(createRng(13).fillNormal(new Float64Array(10)))).not.toEqual(
      Array.from(a.subarray(0, 10)),
    );
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
