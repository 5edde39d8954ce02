import { it } from 'vitest';
import { resizeBilinear } from '@xlens/core';
import { randomInput } from '@xlens/core/testing';
import { linearModel, randomWeights } from '../test/models.js';
import { rise } from './rise.js';
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
        for (let i = 0; i < hw; i++) for (let j = 0; j < hw; j++) k[i * hw + j] += (at(i) * at(j)) / (cell * cell);
      }
  const out = new Float64Array(hw).fill(b);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < hw; i++) {
      const wx = w[ch * hw + i] * x[ch * hw + i];
      for (let j = 0; j < hw; j++) out[j] += wx * (p + (1 - p) * k[i * hw + j]);
    }
  return out;
}


it('dbg', async () => {
  const weights = randomWeights(2, 2 * 9 * 9, 7);
  const model = linearModel([2, 9, 9], weights, [0.5, -0.3]);
  const x = randomInput(model, 1, 8, 0, 1);
  const expected = expectedMap(x.data, weights[1], -0.3, 2, 9, 3, 0.4);
  const a = await rise.explain(model, x, 1, { masks: 100000, cells: 3, p: 0.4, probability: false, batchSize: 512 });
  console.log('got', Array.from(a.map.data.slice(36,45)).map((v) => v.toFixed(3)).join(' '));
  console.log('exp', Array.from(expected.slice(36,45)).map((v) => v.toFixed(3)).join(' '));
  console.log('got0', Array.from(a.map.data.slice(0,9)).map((v) => v.toFixed(3)).join(' '));
  console.log('exp0', Array.from(expected.slice(0,9)).map((v) => v.toFixed(3)).join(' '));
});
