import { createRng } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import type { Geometry } from './image-space.js';
import { applyWarp, drawWarp, warpAdjoint } from './transforms.js';

const g: Geometry = { n: 1, c: 2, h: 9, w: 7, layout: 'NCHW', size: 126 };
const rand = (seed: number) => createRng(seed, 9).fillUniform(new Float32Array(g.size), -1, 1);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('random transformations', () => {
  it('the identity draws nothing; a pure jitter shifts by whole pixels, filling the edge', () => {
    expect(drawWarp(createRng(1), g, { jitter: 0, scales: [1], rotate: 0 })).toBeNull();
    let warp = null;
    for (let s = 0; !warp; s++) warp = drawWarp(createRng(s), g, { jitter: 2, scales: [], rotate: 0 });
    const x = rand(1);
    const out = applyWarp(warp, x, g, Float32Array.of(9, 9));
    const q = warp.from.findIndex((v, i) => i % 4 === 0 && v >= 0);
    for (let k = 0; k < 4; k++) expect([0, 1]).toContain(warp.weight[q + k]);
    expect(out.some((v) => v === 9)).toBe(true);
    for (const v of out) expect(x.includes(v) || v === 9).toBe(true);
  });
  it('warpAdjoint is the adjoint of applyWarp: ⟨W x, y⟩ = ⟨x, Wᵀ y⟩ (zero fill)', () => {
    for (let s = 0; s < 5; s++) {
      const warp = drawWarp(createRng(s, 3), g, { jitter: 2, scales: [0.9, 1.1], rotate: 15 });
      if (!warp) continue;
      const x = rand(10 + s);
      const y = rand(20 + s);
      expect(dot(applyWarp(warp, x, g, Float32Array.of(0, 0)), y)).toBeCloseTo(
        dot(x, warpAdjoint(warp, y, g)),
        4,
      );
    }
  });
});
