import { createRng } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { hartley1d, hartley2d } from './hartley.js';
import type { Geometry, ValueRange } from './image-space.js';
import { fourierParametrization } from './parametrization.js';

const rand = (n: number, seed: number) => createRng(seed, 5).fillUniform(new Float32Array(n), -1, 1);

describe('Hartley transform', () => {
  it('the FFT path equals the matrix definition, and the transform is its own inverse', () => {
    for (const [h, w] of [
      [8, 16],
      [6, 10],
    ]) {
      const a = Float64Array.from(rand(h * w, h));
      const fast = hartley2d(a, h, w);
      // Direct definition: Σ a[y][x]·cas(2πuy/h)·cas(2πvx/w)/√(hw).
      const cas = (t: number) => Math.cos(t) + Math.sin(t);
      for (let u = 0; u < h; u++)
        for (let v = 0; v < w; v++) {
          let s = 0;
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++)
              s += a[y * w + x] * cas((2 * Math.PI * u * y) / h) * cas((2 * Math.PI * v * x) / w);
          expect(fast[u * w + v]).toBeCloseTo(s / Math.sqrt(h * w), 10);
        }
      const back = hartley2d(fast, h, w);
      for (let i = 0; i < a.length; i++) expect(back[i]).toBeCloseTo(a[i], 10);
    }
    expect(hartley1d(16).n).toBe(16);
  });
});

describe('Fourier parametrisation (Olah et al., 2017)', () => {
  const g: Geometry = { n: 1, c: 3, h: 8, w: 6, layout: 'NCHW', size: 144 };
  const range: ValueRange = {
    lo: Float32Array.of(0, -1, 0),
    hi: Float32Array.of(1, 1, 255),
    centre: Float32Array.of(0.5, 0, 127.5),
    bounded: true,
  };
  for (const decorrelate of [true, false]) {
    const param = fourierParametrization(g, range, 1, decorrelate);
    it(`renders inside the range and inverts (decorrelate ${decorrelate})`, () => {
      const theta = rand(g.size, 1);
      const x = param.render(theta);
      for (let p = 0; p < g.size; p++) {
        const k = Math.floor(p / 48);
        expect(x[p]).toBeGreaterThan(range.lo[k]);
        expect(x[p]).toBeLessThan(range.hi[k]);
      }
      const again = param.render(param.fromImage(x));
      for (let p = 0; p < g.size; p++) expect(again[p]).toBeCloseTo(x[p], 2);
      expect(param.render(param.start(null, 0)).every((v, p) => v === range.centre[Math.floor(p / 48)])).toBe(
        true,
      );
    });
    it(`backward is the gradient of ⟨y, render(θ)⟩ (decorrelate ${decorrelate})`, () => {
      const theta = rand(g.size, 2);
      const y = rand(g.size, 3);
      const f = (t: Float32Array) => param.render(t).reduce((s, v, p) => s + v * y[p], 0);
      const grad = param.backward(theta, y, param.render(theta));
      for (const i of [0, 7, 50, 100, 143]) {
        const a = theta.slice();
        const b = theta.slice();
        a[i] += 1e-3;
        b[i] -= 1e-3;
        expect(grad[i]).toBeCloseTo((f(a) - f(b)) / 2e-3, 1);
      }
    });
  }
});
