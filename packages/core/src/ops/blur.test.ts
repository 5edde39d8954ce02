import { describe, expect, it } from 'vitest';
import { randomTensor } from '../testing/compare.js';
import { gaussianBlur } from './blur.js';
import { toChannelsLast } from './reduce.js';

const maxAbsDiff = (a: { data: Float32Array }, b: { data: Float32Array }): number =>
  a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);

describe('gaussianBlur', () => {
  it('keeps a constant image, spreads a dot symmetrically and keeps its mass', () => {
    const flat = { data: new Float32Array(2 * 3 * 9 * 9).fill(0.7), shape: [2, 3, 9, 9] };
    expect(maxAbsDiff(gaussianBlur(flat, 1.5, 'NCHW'), flat)).toBeLessThan(1e-6);
    const dot = { data: new Float32Array(21 * 21), shape: [1, 1, 21, 21] };
    dot.data[10 * 21 + 10] = 1;
    const blurred = gaussianBlur(dot, 1, 'NCHW');
    expect(blurred.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(blurred.data[10 * 21 + 10]).toBeLessThan(0.2);
    expect(blurred.data[10 * 21 + 11]).toBeCloseTo(blurred.data[11 * 21 + 10], 7);
    // Radius ⌈3σ⌉ = 3: nothing reaches 4 pixels away.
    expect(blurred.data[10 * 21 + 13]).toBeGreaterThan(0);
    expect(blurred.data[10 * 21 + 14]).toBe(0);
  });

  it('blurs each channel alike in either layout, and σ = 0 copies', () => {
    const x = randomTensor([2, 2, 6, 5], 61);
    expect(
      maxAbsDiff(gaussianBlur(toChannelsLast(x), 2, 'NHWC'), toChannelsLast(gaussianBlur(x, 2, 'NCHW'))),
    ).toBeLessThan(1e-6);
    const copy = gaussianBlur(x, 0, 'NCHW');
    expect(copy).toEqual(x);
    expect(copy.data).not.toBe(x.data);
  });

  it('refuses non-image batches and bad σ', () => {
    expect(() => gaussianBlur({ data: new Float32Array(4), shape: [1, 4] }, 1, 'NCHW')).toThrow(
      expect.objectContaining({ code: 'invalid-shape' }),
    );
    expect(() => gaussianBlur(randomTensor([1, 1, 2, 2], 1), -1, 'NCHW')).toThrow(
      /blur sigma = -1 is invalid/,
    );
  });
});
