/** Which ascent rule updates θ. */
export type OptimizerName = 'adam' | 'sgd';

/** Gradient ascent on each item's θ, with per-item state so items never share moments. */
export interface Optimizer {
  /** θ_i ← θ_i + step(∇), in place; `t` counts steps from 1. */
  ascend(item: number, theta: Float32Array, gradient: Float32Array, t: number): void;
}

/**
 * Adam (Kingma & Ba, 2015, arXiv:1412.6980; β₁ 0.9, β₂ 0.999, ε 1e-8) — Lucid's choice — or plain
 * gradient ascent θ ← θ + lr·∇ (Erhan et al., 2009; Yosinski et al., 2015).
 */
export function createOptimizer(
  name: OptimizerName,
  learningRate: number,
  items: number,
  size: number,
): Optimizer {
  if (name === 'sgd')
    return {
      ascend(_item, theta, gradient) {
        for (let p = 0; p < theta.length; p++) theta[p] += learningRate * gradient[p];
      },
    };
  const m = Array.from({ length: items }, () => new Float64Array(size));
  const v = Array.from({ length: items }, () => new Float64Array(size));
  const b1 = 0.9;
  const b2 = 0.999;
  return {
    ascend(item, theta, gradient, t) {
      const mi = m[item];
      const vi = v[item];
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      for (let p = 0; p < theta.length; p++) {
        const gp = gradient[p];
        mi[p] = b1 * mi[p] + (1 - b1) * gp;
        vi[p] = b2 * vi[p] + (1 - b2) * gp * gp;
        theta[p] += (learningRate * (mi[p] / c1)) / (Math.sqrt(vi[p] / c2) + 1e-8);
      }
    },
  };
}
