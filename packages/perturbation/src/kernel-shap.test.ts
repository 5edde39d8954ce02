import type { Model, Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { gridLabels, segmentModel } from '../test/models.js';
import { kernelShap } from './kernel-shap.js';

/** Exact Shapley values of the segment game (absent segments zeroed) by enumerating all 2^M coalitions. */
async function bruteForceShapley(
  model: Model,
  x: Tensor,
  labels: Int32Array,
  m: number,
  target: number,
): Promise<Float64Array> {
  const k = model.info.numClasses;
  const [c, h, w] = x.shape.slice(1);
  const hw = h * w;
  const value = new Float64Array(2 ** m);
  const rows = new Float32Array(2 ** m * c * hw);
  for (let s = 0; s < 2 ** m; s++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < hw; p++)
        rows[s * c * hw + ch * hw + p] = (s >> labels[p]) & 1 ? x.data[ch * hw + p] : 0;
  const out = await model.forward({ data: rows, shape: [2 ** m, c, h, w] });
  for (let s = 0; s < 2 ** m; s++) value[s] = out.data[s * k + target];
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const phi = new Float64Array(m);
  for (let j = 0; j < m; j++)
    for (let s = 0; s < 2 ** m; s++) {
      if ((s >> j) & 1) continue;
      let size = 0;
      for (let q = 0; q < m; q++) size += (s >> q) & 1;
      phi[j] +=
        ((factorial(size) * factorial(m - size - 1)) / factorial(m)) * (value[s | (1 << j)] - value[s]);
    }
  return phi;
}

/** An image in [0.2, 1) with some texture. */
function image(h: number, w: number): Tensor {
  const data = new Float32Array(2 * h * w);
  for (let e = 0; e < data.length; e++) data[e] = 0.2 + 0.8 * Math.abs(Math.sin(e * 1.7));
  return { data, shape: [1, 2, h, w] };
}

/** A game with interactions between segments: a quadratic form of the segment sums, squashed. */
function interacting(m: number) {
  return (s: Float64Array) => {
    let f = 0.1;
    for (let k = 0; k < m; k++) f += ((k % 3) - 1) * 0.05 * s[k] + 0.002 * s[k] * s[(k + 1) % m];
    return [Math.tanh(f) * 3 + 0.01 * s[0] * s[m - 1], -f];
  };
}

describe('kernel-shap', () => {
  it('equals the exact Shapley values on ≤ 10 segments (all coalitions evaluated)', async () => {
    for (const [rows, cols] of [
      [2, 3],
      [2, 5],
    ]) {
      const m = rows * cols;
      const labels = gridLabels(10, 10, rows, cols);
      const model = segmentModel([2, 10, 10], labels, m, 2, interacting(m));
      const x = image(10, 10);
      const a = await kernelShap.explain(model, x, 0, {
        segmentation: { data: Float32Array.from(labels), shape: [10, 10] },
        samples: 2 ** m - 2,
        batchSize: 64,
      });
      const exact = await bruteForceShapley(model, x, labels, m, 0);
      expect(a.extras.exact).toEqual([1]);
      const values = a.extras.segmentWeights;
      for (let j = 0; j < m; j++) expect(values[j]).toBeCloseTo(exact[j], 5);
    }
  });

  it('values sum to f(x) − f(baseline), exactly enumerated or sampled', async () => {
    const labels = gridLabels(12, 12, 4, 4);
    const model = segmentModel([2, 12, 12], labels, 16, 2, interacting(16));
    const x = image(12, 12);
    const segmentation = { data: Float32Array.from(labels), shape: [12, 12] };
    for (const fill of ['zero', 'mean', 0.5] as const) {
      const a = await kernelShap.explain(model, x, 0, { segmentation, samples: 300, fill, batchSize: 64 });
      expect(a.extras.exact).toEqual([0]);
      const values = a.extras.segmentWeights;
      const total = values.reduce((s, v) => s + v, 0);
      const [full, base] = [a.extras.fullValue[0], a.extras.baseValue[0]];
      expect(total).toBeCloseTo(full - base, 9);
      const out = await model.forward(x);
      expect(full).toBeCloseTo(out.data[0], 6);
    }
  });

  it('is exact for an additive game even from few sampled coalitions', async () => {
    const labels = gridLabels(12, 12, 4, 4);
    const v = Array.from({ length: 16 }, (_, k) => Math.sin(k + 1));
    const model = segmentModel([2, 12, 12], labels, 16, 1, (s) => [
      v.reduce((f, vk, k) => f + vk * s[k], 0.4),
    ]);
    const x = image(12, 12);
    const a = await kernelShap.explain(model, x, 0, {
      segmentation: { data: Float32Array.from(labels), shape: [12, 12] },
      samples: 60,
    });
    const sums = new Float64Array(16);
    for (let ch = 0; ch < 2; ch++) for (let p = 0; p < 144; p++) sums[labels[p]] += x.data[ch * 144 + p];
    const values = a.extras.segmentWeights;
    for (let k = 0; k < 16; k++) expect(values[k]).toBeCloseTo(v[k] * sums[k], 3);
  });

  it('runs on SLIC segments with the default options', async () => {
    const labels = gridLabels(16, 16, 2, 2);
    const model = segmentModel([2, 16, 16], labels, 4, 2, interacting(4));
    const a = await kernelShap.explain(model, image(16, 16), 1, { segments: 8, samples: 100 });
    const count = a.extras.segmentCount[0];
    expect(a.extras.segmentWeights.length).toBe(count);
    expect(a.map.data.every(Number.isFinite)).toBe(true);
  });
});
