import { describe, expect, it } from 'vitest';
import type { WeightParam } from './model.js';
import { multiplicativeNoise, randomizeLayers } from './weights.js';

const param = (layer: string, role: WeightParam['role'], values: number[], layerIndex = 1): WeightParam => ({
  layer,
  layerIndex,
  role,
  shape: [values.length],
  values: Float32Array.from(values),
});
const big = Array.from({ length: 4000 }, (_, i) => Math.sin(i) * 0.5);

describe('randomizeLayers', () => {
  it('only touches the named layers, deterministically per seed and layer name', () => {
    const t = randomizeLayers(['a']);
    expect(t(param('b', 'weight', [1, 2]))).toBeUndefined();
    expect(t(param('a', 'other', [1, 2]))).toBeUndefined();
    const x = t(param('a', 'weight', big))!;
    expect(x).toEqual(t(param('a', 'weight', big, 7)));
    expect(x).not.toEqual(randomizeLayers(['a'], 1)(param('a', 'weight', big)));
    expect(x).not.toEqual(randomizeLayers(['a2'])(param('a2', 'weight', big)));
  });
  it('draws with the standard deviation of the original; a zero bias stays zero', () => {
    const x = randomizeLayers(['a'])(param('a', 'weight', big))!;
    const std = (v: ArrayLike<number>) => {
      const a = Array.from(v);
      const m = a.reduce((s, y) => s + y, 0) / a.length;
      return Math.sqrt(a.reduce((s, y) => s + (y - m) ** 2, 0) / a.length);
    };
    expect(std(x) / std(big)).toBeCloseTo(1, 1);
    expect(Array.from(randomizeLayers(['a'])(param('a', 'bias', [0, 0, 0]))!)).toEqual([0, 0, 0]);
    const he = randomizeLayers(['a'])({
      layer: 'a',
      layerIndex: 0,
      role: 'weight',
      shape: [1000, 2],
      values: new Float32Array(2000),
    })!;
    expect(std(he)).toBeCloseTo(1, 1);
  });
});

describe('multiplicativeNoise', () => {
  it('σ = 0 keeps the values; σ > 0 multiplies by N(1, σ²)', () => {
    expect(Array.from(multiplicativeNoise(0)(param('a', 'weight', [1, 2]))!)).toEqual([1, 2]);
    const ones = multiplicativeNoise(0.1, 3)(param('a', 'weight', new Array(4000).fill(1)))!;
    const m = ones.reduce((s, y) => s + y, 0) / ones.length;
    expect(m).toBeCloseTo(1, 2);
    expect(Math.sqrt(ones.reduce((s, y) => s + (y - m) ** 2, 0) / ones.length)).toBeCloseTo(0.1, 2);
  });
  it('honours layers and biases options, and leaves other parameters', () => {
    const t = multiplicativeNoise(0.5, 0, { layers: ['a'], biases: false });
    expect(t(param('b', 'weight', [1]))).toBeUndefined();
    expect(t(param('a', 'bias', [1]))).toBeUndefined();
    expect(t(param('a', 'other', [1]))).toBeUndefined();
    expect(t(param('a', 'weight', [1]))).toBeDefined();
  });
});
