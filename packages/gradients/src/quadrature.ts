import { OptionError } from '@xlens/core';

/** Quadrature rules for the path integral of Integrated Gradients over α ∈ [0, 1]. */
export type IntegrationScheme =
  | 'riemann-left'
  | 'riemann-right'
  | 'riemann-middle'
  | 'riemann-trapezoid'
  | 'gauss-legendre';

/** The schemes, for option specs and messages. */
export const integrationSchemes: readonly IntegrationScheme[] = [
  'riemann-left',
  'riemann-right',
  'riemann-middle',
  'riemann-trapezoid',
  'gauss-legendre',
];

/** Points α_k in [0, 1] and weights w_k with Σ w_k = 1, such that ∫₀¹ h ≈ Σ w_k h(α_k). */
export interface Quadrature {
  readonly alphas: Float64Array;
  readonly weights: Float64Array;
}

/** Gauss–Legendre rules already computed, by number of nodes (validation and the run share one). */
const gaussLegendreCache = new Map<number, Quadrature>();

/**
 * Gauss–Legendre nodes and weights, cached: Newton's method costs O(n²), so a rule is computed
 * once per number of nodes (at most a few, evicting the oldest).
 */
function gaussLegendre(n: number): Quadrature {
  const cached = gaussLegendreCache.get(n);
  if (cached) return cached;
  const rule = computeGaussLegendre(n);
  if (gaussLegendreCache.size >= 8)
    gaussLegendreCache.delete(gaussLegendreCache.keys().next().value as number);
  gaussLegendreCache.set(n, rule);
  return rule;
}

/** Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on P_n, mapped to [0, 1]. */
function computeGaussLegendre(n: number): Quadrature {
  const alphas = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 1; i <= Math.floor((n + 1) / 2); i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let derivative = 1;
    for (let iter = 0; iter < 100; iter++) {
      // Three-term recurrence for P_n(z); derivative from P_n and P_{n-1}.
      let p1 = 1;
      let p2 = 0;
      for (let j = 1; j <= n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
      }
      derivative = (n * (z * p1 - p2)) / (z * z - 1);
      const step = p1 / derivative;
      z -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    const w = 2 / ((1 - z * z) * derivative * derivative);
    alphas[i - 1] = (1 - z) / 2;
    alphas[n - i] = (1 + z) / 2;
    weights[i - 1] = w / 2;
    weights[n - i] = w / 2;
  }
  return { alphas, weights };
}

/**
 * The `steps` evaluation points and weights of a scheme. Riemann sums use `steps` equal
 * intervals (left/right/middle points); the trapezoid rule uses `steps` points including both ends
 * (so at least 2); Gauss–Legendre is exact for polynomials of degree < 2·steps.
 */
export function quadrature(scheme: IntegrationScheme, steps: number): Quadrature {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new OptionError('invalid-option', `steps = ${steps} is invalid; expected an integer ≥ 1`);
  }
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps).fill(1 / steps);
  switch (scheme) {
    case 'riemann-left':
      for (let k = 0; k < steps; k++) alphas[k] = k / steps;
      return { alphas, weights };
    case 'riemann-right':
      for (let k = 0; k < steps; k++) alphas[k] = (k + 1) / steps;
      return { alphas, weights };
    case 'riemann-middle':
      for (let k = 0; k < steps; k++) alphas[k] = (k + 0.5) / steps;
      return { alphas, weights };
    case 'riemann-trapezoid': {
      if (steps < 2)
        throw new OptionError(
          'invalid-option',
          `steps = ${steps} is invalid for riemann-trapezoid; expected ≥ 2 (both ends are evaluated)`,
        );
      for (let k = 0; k < steps; k++) {
        alphas[k] = k / (steps - 1);
        weights[k] = (k === 0 || k === steps - 1 ? 0.5 : 1) / (steps - 1);
      }
      return { alphas, weights };
    }
    case 'gauss-legendre':
      return gaussLegendre(steps);
    default:
      throw new OptionError(
        'invalid-option',
        `scheme = ${JSON.stringify(scheme)} is invalid; expected one of ${integrationSchemes.join(', ')}`,
      );
  }
}
