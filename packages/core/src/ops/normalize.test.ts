import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor.js';
import { abs, maxAbsPerItem, minMaxPerItem, percentile, percentileClipPerItem, relu } from './normalize.js';

describe('percentile', () => {
  it('interpolates between order statistics', () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 0.25)).toBe(2);
    expect(percentile([0, 10], 0.3)).toBeCloseTo(3, 10);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 1)).toBe(3);
    expect(percentile([3, 1, 2], 7)).toBe(3);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('per-item normalisations', () => {
  it('minMaxPerItem scales each item to [0, 1]; a constant item becomes zeros', () => {
    const out = minMaxPerItem(tensor([1, 3, 2, 5, 5, 5], [2, 3]));
    expect(Array.from(out.data)).toEqual([0, 1, 0.5, 0, 0, 0]);
  });
  it('maxAbsPerItem keeps signs', () => {
    expect(Array.from(maxAbsPerItem(tensor([-4, 2, 0, 0], [2, 2])).data)).toEqual([-1, 0.5, 0, 0]);
  });
  it('percentileClipPerItem clips outliers and scales to [−1, 1]', () => {
    const values = Array.from({ length: 101 }, (_, i) => i - 50);
    values[100] = 1000;
    // Sorted: −50..49 then 1000; the 0.99 quantile is 49, so 1000 is clipped to 49 and the
    // larger bound |−50| scales everything.
    const out = percentileClipPerItem(tensor(values, [1, 101]), 0, 0.99);
    expect(out.data[100]).toBeCloseTo(49 / 50, 6);
    expect(out.data[0]).toBeCloseTo(-1, 6);
    expect(out.data[60]).toBeCloseTo(10 / 50, 6);
  });
  it('abs and relu', () => {
    expect(Array.from(abs(tensor([-1, 2], [2])).data)).toEqual([1, 2]);
    expect(Array.from(relu(tensor([-1, 2], [2])).data)).toEqual([0, 2]);
  });
});
