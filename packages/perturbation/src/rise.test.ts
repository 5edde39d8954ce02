import { fromFunction, resizeBilinear, scoreOf } from '@xlens/core';
import { randomInput } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { linearModel, randomWeights } from '../test/models.js';
import { rise } from './rise.js';

/**
 * E[map] of RISE on a model linear in the pixels, f(x) = b + Σ_e w_e·x_e, with zero fill:
 * E[f(x⊙M)·M_j]/p = b + Σ_e w_e·x_e·(p + (1−p)·K_{pix(e), j}), since the grid cells are
 * independent Bernoulli(p) and bilinear weights sum to one; K_ij = mean over the integer shifts of
 * Σ_a α_ia·α_ja, α_ia the upsampled, cropped one-hot grid cell a at pixel i.
 */
function expectedMap(
  x: Float32Array,
  w: Float64Array,
  b: number,
  c: number,
  h: number,
  s: number,
  p: number,
): Float64Array {
  const hw = h * h;
  const cell = Math.ceil(h / s);
  const up = (s + 1) * cell;
  const alphas = Array.from({ length: s * s }, (_, a) => {
    const grid = new Float32Array(s * s);
    grid[a] = 1;
    return resizeBilinear({ data: grid, shape: [1, s, s] }, up, up).data;
  });
  const k = new Float64Array(hw * hw);
  for (let dy = 0; dy < cell; dy++)
    for (let dx = 0; dx < cell; dx++)
      for (const alpha of alphas) {
        const at = (q: number) => alpha[(Math.floor(q / h) + dy) * up + (q % h) + dx];
        for (let i = 0; i < hw; i++)
          for (let j = 0; j < hw; j++) k[i * hw + j] += (at(i) * at(j)) / (cell * cell);
      }
  const out = new Float64Array(hw).fill(b);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < hw; i++) {
      const wx = w[ch * hw + i] * x[ch * hw + i];
      for (let j = 0; j < hw; j++) out[j] += wx * (p + (1 - p) * k[i * hw + j]);
    }
  return out;
}

const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
};

describe('rise', () => {
  // Positive weights: a map well above its Monte Carlo noise, so the error measures convergence.
  const weights = randomWeights(2, 2 * 9 * 9, 7).map((w) => w.map(Math.abs));
  const model = linearModel([2, 9, 9], weights, [0.5, -0.3]);
  const x = randomInput(model, 1, 8, 0, 1);

  it('converges to the analytic expectation on a linear model as the number of masks grows', async () => {
    const expected = expectedMap(x.data, weights[1], -0.3, 2, 9, 3, 0.4);
    // Monte Carlo error shrinks like 1/√N: 16× the masks, ~4× smaller each time.
    const errors: number[] = [];
    for (const masks of [200, 3200, 51200]) {
      const a = await rise.explain(model, x, 1, {
        masks,
        cells: 3,
        p: 0.4,
        probability: false,
        batchSize: 256,
      });
      errors.push(relativeError(a.map.data, expected));
    }
    expect(errors[1]).toBeLessThan(errors[0] / 2);
    expect(errors[2]).toBeLessThan(errors[1] / 2);
    expect(errors[2]).toBeLessThan(0.015);
  });

  it('with p = 1 every mask is all ones and the map is f(x) everywhere', async () => {
    const a = await rise.explain(model, x, 0, { masks: 5, cells: 4, p: 1, probability: false });
    const f = (await model.forward(x)).data[0];
    for (const v of a.map.data) expect(v).toBeCloseTo(f, 5);
  });

  it('weighs by the softmax probability by default (the paper), by the run score on request', async () => {
    const options = { masks: 20, cells: 3, seed: 4 };
    const byProbability = await rise.explain(model, x, 1, options);
    const viaRunScore = await rise.explain(model, x, 1, { ...options, probability: false, score: 'softmax' });
    for (let j = 0; j < 81; j++) expect(byProbability.map.data[j]).toBeCloseTo(viaRunScore.map.data[j], 6);
    // A model that outputs probabilities is not softmaxed again.
    const probs = fromFunction(
      async (t) => (await model.forward(t)).data.map((v) => 1 / (1 + Math.exp(-v))),
      {
        ...model.info,
        outputKind: 'probabilities',
      },
    );
    const sig = await rise.explain(probs, x, 1, options);
    const sigRun = await rise.explain(probs, x, 1, { ...options, probability: false });
    for (let j = 0; j < 81; j++) expect(sig.map.data[j]).toBeCloseTo(sigRun.map.data[j], 6);
    expect(scoreOf(new Float32Array([0, 0]), 1, 'softmax')).toBe(0.5);
  });

  it('never sends more than batchSize rows and is reproducible per seed', async () => {
    const sizes: number[] = [];
    const logging = fromFunction(async (t) => {
      sizes.push(t.shape[0]);
      return model.forward(t);
    }, model.info);
    const a = await rise.explain(logging, x, 0, { masks: 50, cells: 3, batchSize: 8, seed: 1 });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    const b = await rise.explain(model, x, 0, { masks: 50, cells: 3, seed: 1 });
    const c = await rise.explain(model, x, 0, { masks: 50, cells: 3, seed: 2 });
    expect(Array.from(b.map.data)).toEqual(Array.from(a.map.data));
    expect(Array.from(c.map.data)).not.toEqual(Array.from(a.map.data));
  });

  it('validates before compute', async () => {
    await expect(rise.explain(model, x, 0, { p: 0 })).rejects.toThrow(/p = 0/);
    await expect(rise.explain(model, x, 0, { cells: 10 })).rejects.toThrow(/cells = 10.*at most 9/);
    await expect(rise.explain(model, x, 0, { masks: 0 })).rejects.toThrow(/masks = 0/);
  });
});
