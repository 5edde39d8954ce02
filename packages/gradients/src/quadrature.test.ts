import { describe, expect, it } from 'vitest';
import { integrationSchemes, quadrature } from './quadrature.js';

describe('quadrature', () => {
  it('has weights summing to 1 and points in [0, 1] for every scheme', () => {
    for (const scheme of integrationSchemes) {
      const { alphas, weights } = quadrature(scheme, 7);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (const a of alphas) expect(a >= 0 && a <= 1).toBe(true);
    }
  });

  it('Gauss–Legendre with n points integrates degree 2n−1 exactly; 2 points are ½ ± ½/√3', () => {
    const two = quadrature('gauss-legendre', 2);
    expect(two.alphas[0]).toBeCloseTo(0.5 - 0.5 / Math.sqrt(3), 14);
    expect(two.alphas[1]).toBeCloseTo(0.5 + 0.5 / Math.sqrt(3), 14);
    for (const n of [1, 3, 6, 20]) {
      const { alphas, weights } = quadrature('gauss-legendre', n);
      const degree = 2 * n - 1;
      const integral = alphas.reduce((s, a, k) => s + weights[k] * a ** degree, 0);
      expect(integral).toBeCloseTo(1 / (degree + 1), 12);
    }
  });

  it('places Riemann points as named and the trapezoid on both ends', () => {
    expect([...quadrature('riemann-left', 4).alphas]).toEqual([0, 0.25, 0.5, 0.75]);
    expect([...quadrature('riemann-right', 4).alphas]).toEqual([0.25, 0.5, 0.75, 1]);
    expect([...quadrature('riemann-middle', 2).alphas]).toEqual([0.25, 0.75]);
    const t = quadrature('riemann-trapezoid', 3);
    expect([...t.alphas]).toEqual([0, 0.5, 1]);
    expect([...t.weights]).toEqual([0.25, 0.5, 0.25]);
  });

  it('rejects a one-point trapezoid and an unknown scheme', () => {
    expect(() => quadrature('riemann-trapezoid', 1)).toThrow(/≥ 2/);
    expect(() => quadrature('simpson' as never, 4)).toThrow(
      /riemann-left, riemann-right, riemann-middle, riemann-trapezoid, gauss-legendre/,
    );
  });
});
