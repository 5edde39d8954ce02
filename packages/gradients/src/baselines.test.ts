import { toChannelsLast } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { gaussianBlur } from './baselines.js';

describe('gaussianBlur', () => {
  it('keeps a constant image and the mean of a periodic-free interior blob', () => {
    const flat = { data: new Float32Array(2 * 3 * 9 * 9).fill(0.7), shape: [2, 3, 9, 9] };
    expect(maxAbsDiff(gaussianBlur(flat, 1.5, 'NCHW'), flat)).toBeLessThan(1e-6);
    const dot = { data: new Float32Array(21 * 21), shape: [1, 1, 21, 21] };
    dot.data[10 * 21 + 10] = 1;
    const blurred = gaussianBlur(dot, 1, 'NCHW');
    expect(blurred.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(blurred.data[10 * 21 + 10]).toBeLessThan(0.2);
    expect(blurred.data[10 * 21 + 11]).toBeCloseTo(blurred.data[11 * 21 + 10], 7);
  });

  it('blurs each channel alike in either layout', () => {
    const x = randomTensor([1, 2, 6, 5], 61);
    expect(
      maxAbsDiff(gaussianBlur(toChannelsLast(x), 2, 'NHWC'), toChannelsLast(gaussianBlur(x, 2, 'NCHW'))),
    ).toBeLessThan(1e-6);
  });
});
