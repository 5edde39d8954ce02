import { defineExplainer, type Extras, type Tensor } from '@xlens/core';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  layerDims,
  validateCam,
} from './internal/layers.js';
import { runCam } from './internal/run-cam.js';

/** Options of Eigen-CAM (the common CAM options; its ReLU is off by default). */
export type EigenCamOptions = CamCommonOptions;

function multiply(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
    }
  return out;
}

function scaleByTrace(m: Float64Array, d: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += m[i * d + i];
  return trace > 0 ? m.map((v) => v / trace) : m;
}

/** Power iteration from `v`; `converged` when no entry moves by 1e-12 any more. */
function powerIterate(m: Float64Array, d: number, start: Float64Array, maxIterations: number) {
  let v = start;
  for (let iter = 0; iter < maxIterations; iter++) {
    const next = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += m[i * d + j] * v[j];
      next[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += next[i] * next[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return { vector: next, converged: true };
    let change = 0;
    for (let i = 0; i < d; i++) {
      next[i] /= norm;
      change = Math.max(change, Math.abs(next[i] - v[i]));
    }
    v = next;
    if (change < 1e-12) return { vector: v, converged: true };
  }
  return { vector: v, converged: false };
}

/** Top eigenvector of a symmetric positive semi-definite `d×d` matrix, and its eigenvalue. */
function topEigenvector(gram: Float64Array, d: number): { vector: Float64Array; value: number } {
  // Start from the all-ones direction: for non-negative activations (after a ReLU) the top
  // eigenvector is non-negative (Perron–Frobenius), so this start is never orthogonal to it.
  const scaled = scaleByTrace(gram, d);
  let { vector, converged } = powerIterate(scaled, d, new Float64Array(d).fill(1 / Math.sqrt(d)), 64);
  if (!converged) {
    // A small eigengap: iterate on G⁸ (three squarings rescaled by their trace; same eigenvectors,
    // 8× the convergence rate) when the 3d³ cost of squaring is affordable.
    let m = scaled;
    if (d <= 256) for (let s = 0; s < 3; s++) m = scaleByTrace(multiply(m, m, d), d);
    vector = powerIterate(m, d, vector, 2000).vector;
  }
  let value = 0; // Rayleigh quotient vᵀGv with the original matrix
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += gram[i * d + j] * vector[j];
    value += vector[i] * s;
  }
  return { vector, value };
}

/**
 * The projection of each item's activations (positions × channels matrix `X`, not centred, as in
 * the paper) on its first principal direction: `X v₁ = σ₁ u₁`, an `N×h×w` map. Computed from the
 * smaller of the two Gram matrices. Sign convention: the map is flipped so that its sum is ≥ 0
 * (singular vectors have no sign of their own; on non-negative activations this picks the
 * non-negative solution).
 */
export function firstComponentMaps(activations: Tensor, layer = 'layer'): Tensor {
  const { n, c, h, w } = layerDims(activations, layer);
  const hw = h * w;
  const out = new Float32Array(n * hw);
  const a = (b: number, k: number, p: number): number => activations.data[(b * c + k) * hw + p];
  for (let b = 0; b < n; b++) {
    const map = new Float64Array(hw);
    if (hw <= c) {
      const gram = new Float64Array(hw * hw);
      for (let k = 0; k < c; k++)
        for (let p = 0; p < hw; p++) for (let q = p; q < hw; q++) gram[p * hw + q] += a(b, k, p) * a(b, k, q);
      for (let p = 0; p < hw; p++) for (let q = 0; q < p; q++) gram[p * hw + q] = gram[q * hw + p];
      const { vector, value } = topEigenvector(gram, hw);
      for (let p = 0; p < hw; p++) map[p] = Math.sqrt(value) * vector[p];
    } else {
      const gram = new Float64Array(c * c);
      for (let p = 0; p < hw; p++)
        for (let k = 0; k < c; k++) for (let l = k; l < c; l++) gram[k * c + l] += a(b, k, p) * a(b, l, p);
      for (let k = 0; k < c; k++) for (let l = 0; l < k; l++) gram[k * c + l] = gram[l * c + k];
      const { vector } = topEigenvector(gram, c);
      for (let k = 0; k < c; k++) for (let p = 0; p < hw; p++) map[p] += vector[k] * a(b, k, p);
    }
    const sign = map.reduce((s, v) => s + v, 0) < 0 ? -1 : 1;
    for (let p = 0; p < hw; p++) out[b * hw + p] = sign * map[p];
  }
  return { data: out, shape: [n, h, w] };
}

/**
 * Eigen-CAM — Muhammad & Yeasin, 2020, "Eigen-CAM: Class Activation Map using Principal
 * Components", IJCNN, arXiv:2008.00299.
 *
 * The activations projected on their first principal component (first right singular vector of
 * the positions × channels matrix, uncentred). Class-agnostic: it ignores the target and needs no
 * gradients. The paper has no final ReLU, so `relu` defaults to false.
 */
export const eigenCam = defineExplainer<EigenCamOptions, Extras, 'eigen-cam', true>({
  id: 'eigen-cam',
  family: 'cam',
  title: 'Eigen-CAM',
  citation:
    'Muhammad & Yeasin, 2020, Eigen-CAM: Class Activation Map using Principal Components, IJCNN; arXiv:2008.00299',
  description:
    'Projection of a layer’s activations on their first principal component; ignores the target class.',
  requires: ['layers', 'capture'],
  mapKind: 'pixel',
  defaults: camDefaults(false),
  options: camCommonOptionSpecs,
  validate: validateCam('eigen-cam'),
  attribute: (ctx) =>
    runCam(ctx, {
      gradients: false,
      coarse: ({ layer, activations }) => firstComponentMaps(activations, layer.name),
    }),
});
