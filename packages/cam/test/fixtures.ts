/**
 * Toy nets whose CAM maps are worked out by hand in the tests, and small helpers.
 */
import { type Tensor, tensor } from '@xlens/core';
import type { ToySpec } from '@xlens/core/testing';

/**
 * `input [3, 2, 2]` → `feat` 1×1 conv, identity weights, fused ReLU (so A = x for x ≥ 0) →
 * `mix` 1×1 conv 3→1 with weights [1, −1, 0] and fused ReLU → `gap` → `fc` 1→2, weights [2, −1],
 * bias [0.1, 0]. For class 0: ∂y/∂A^k_ij = (2/4)·[mix_ij > 0]·[1, −1, 0]_k.
 */
export function handNet(): ToySpec {
  return {
    name: 'hand-net',
    inputShape: [3, 2, 2],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'feat',
        inChannels: 3,
        outChannels: 3,
        kernel: 1,
        weight: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        activation: 'relu',
      },
      {
        type: 'conv',
        name: 'mix',
        inChannels: 3,
        outChannels: 1,
        kernel: 1,
        weight: [1, -1, 0],
        activation: 'relu',
      },
      { type: 'global-avg-pool', name: 'gap' },
      { type: 'dense', name: 'fc', inFeatures: 1, outFeatures: 2, weight: [2, -1], bias: [0.1, 0] },
    ],
  };
}

/**
 * Input of `handNet`: A⁰ = [[1, 2], [3, 4]], A¹ = [[2, 0], [1, 5]], A² = 0, so that
 * mix = relu(A⁰ − A¹) = [[0, 2], [2, 0]]: the gradient at `feat` is non-zero only on the anti-diagonal.
 */
export const handInput: Tensor = tensor([1, 2, 3, 4, 2, 0, 1, 5, 0, 0, 0, 0], [1, 3, 2, 2]);

/**
 * `input [1, 2, 2]` → `feat` 1×1 conv 1→3, weights [1, 0, −1], bias [0, 0.7, 5], fused ReLU, so
 * A⁰ = x, A¹ = 0.7 (a constant channel), A² = 5 − x → `gap` → `fc` 3→2, weights
 * [[1, 0.5, −1], [0, 1, 0]], no bias. Class-0 score: y = mean(A⁰) + 0.5·mean(A¹) − mean(A²).
 */
export function scoreNet(): ToySpec {
  return {
    name: 'score-net',
    inputShape: [1, 2, 2],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'feat',
        inChannels: 1,
        outChannels: 3,
        kernel: 1,
        weight: [1, 0, -1],
        bias: [0, 0.7, 5],
        activation: 'relu',
      },
      { type: 'global-avg-pool', name: 'gap' },
      { type: 'dense', name: 'fc', inFeatures: 3, outFeatures: 2, weight: [1, 0.5, -1, 0, 1, 0] },
    ],
  };
}

/** Input of `scoreNet`: x = [[1, 2], [3, 4]]. */
export const scoreInput: Tensor = tensor([1, 2, 3, 4], [1, 1, 2, 2]);

/** Element-wise `a·s`. */
export function scaled(t: Tensor, s: number): Tensor {
  return { data: t.data.map((v) => v * s), shape: [...t.shape] };
}

/** Item `i` of a batch as its own batch of one (copied). */
export function itemOf(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(i * per, (i + 1) * per), shape: [1, ...t.shape.slice(1)] };
}

/** The largest |value|. */
export function maxAbs(t: Tensor): number {
  return t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}
