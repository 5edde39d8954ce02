import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@xlens/core';
import { expect } from 'vitest';
import { initTfjsBackend } from '../src/backend.js';

/** Use the wasm backend (the package's Node default). */
export async function useWasm(): Promise<void> {
  await initTfjsBackend('wasm');
}

/** Deterministic pseudo-random tensor in [-1, 1). */
export function randomTensor(shape: readonly number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return { data, shape: [...shape] };
}

export function oneHot(n: number, k: number, classes: readonly number[]): Tensor {
  const data = new Float32Array(n * k);
  classes.forEach((c, i) => {
    data[i * k + c] = 1;
  });
  return { data, shape: [n, k] };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Expect `a ≈ b` relative to the scale of `b`. */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-4): void {
  expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(rel * Math.max(maxAbs(b), 1e-6));
}

/** Run `fn` and check that it leaves tfjs's tensor count unchanged. */
export async function noLeak<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await fn();
  expect(tf.memory().numTensors).toBe(before);
  return r;
}

/** Σ cot ⊙ f(x), in float64, from a forward function. */
export async function objective(
  forward: (x: Tensor) => Promise<Tensor>,
  x: Tensor,
  cot: Tensor,
): Promise<number> {
  const y = await forward(x);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += y.data[i] * cot.data[i];
  return s;
}

/** Central finite difference of `objective` along input coordinates `indices`. */
export async function finiteDifferences(
  forward: (x: Tensor) => Promise<Tensor>,
  x: Tensor,
  cot: Tensor,
  indices: readonly number[],
  h = 1e-2,
): Promise<number[]> {
  const out: number[] = [];
  for (const i of indices) {
    const plus = { data: x.data.slice(), shape: x.shape };
    const minus = { data: x.data.slice(), shape: x.shape };
    plus.data[i] += h;
    minus.data[i] -= h;
    out.push(((await objective(forward, plus, cot)) - (await objective(forward, minus, cot))) / (2 * h));
  }
  return out;
}

/** A tfjs tensor of a host tensor. */
export function tfOf(t: Tensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape]);
}
