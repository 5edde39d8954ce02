import { OptionError, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { applyScale, normalizeMaps, normalizeModes } from './normalize.js';

const t = (values: number[], shape: number[]): Tensor => ({ data: Float32Array.from(values), shape });
const noNaN = (x: Tensor): boolean => Array.from(x.data).every((v) => Number.isFinite(v) && v >= 0 && v <= 1);

describe('normalizeMaps', () => {
  it.each(normalizeModes)('%s never yields NaN on constant or all-zero maps', (mode) => {
    for (const value of [0, 5, -2]) {
      const { maps, scales } = normalizeMaps(t(Array(8).fill(value), [2, 2, 2]), { mode });
      expect(noNaN(maps[0])).toBe(true);
      expect(scales[0]).toHaveLength(2);
    }
    const zeros = normalizeMaps(t(Array(4).fill(0), [1, 2, 2]), { mode }).maps[0].data;
    expect(Array.from(zeros)).toEqual(Array(4).fill(mode === 'signed' ? 0.5 : 0));
  });

  it('abs divides magnitudes by the largest one, per item', () => {
    const { maps, scales } = normalizeMaps(t([-4, 2, 0, 1, 10, 5], [2, 3]), { mode: 'abs' });
    expect(Array.from(maps[0].data)).toEqual([1, 0.5, 0, Math.fround(0.1), 1, 0.5]);
    expect(scales[0].map((s) => s.high)).toEqual([4, 10]);
  });

  it('signed is symmetric around zero: 0 → 0.5, v and −v mirror', () => {
    const { maps, scales } = normalizeMaps(t([-2, -1, 0, 1, 4], [1, 5]), { mode: 'signed' });
    expect(Array.from(maps[0].data)).toEqual([0.25, 0.375, 0.5, 0.625, 1]);
    expect(scales[0][0]).toMatchObject({ low: -4, high: 4, diverging: true });
  });

  it('percentile clips the scale at a percentile of |v| and saturates above it', () => {
    const values = Array.from({ length: 101 }, (_, i) => i); // 0..100, percentile q → 100q
    const { maps, scales } = normalizeMaps(t(values, [1, 101]), { mode: 'percentile', clip: 50 });
    expect(scales[0][0].high).toBeCloseTo(50, 6);
    expect(maps[0].data[25]).toBeCloseTo(0.5, 6);
    expect(maps[0].data[80]).toBe(1);
    // default clip is 99
    expect(normalizeMaps(t(values, [1, 101]), { mode: 'percentile' }).scales[0][0].high).toBeCloseTo(99, 6);
  });

  it('minmax maps the item range onto [0, 1]', () => {
    const { maps } = normalizeMaps(t([-3, -1, 1, 2, 4, 6], [2, 3]), { mode: 'minmax' });
    expect(Array.from(maps[0].data).map((v) => +v.toFixed(5))).toEqual([0, 0.5, 1, 0, 0.5, 1]);
  });

  it('shared puts every map and item on one scale', () => {
    const a = t([1, 0.5], [1, 2]);
    const b = t([10, 5], [1, 2]);
    const own = normalizeMaps([a, b]);
    expect(own.maps[0].data[0]).toBe(1);
    expect(own.maps[1].data[0]).toBe(1);
    const shared = normalizeMaps([a, b], { shared: true });
    expect(shared.maps[0].data[0]).toBeCloseTo(0.1, 6);
    expect(shared.maps[1].data[0]).toBe(1);
    expect(shared.scales[0][0]).toEqual(shared.scales[1][0]);
  });

  it('ignores non-finite values when scaling and shows them as neutral', () => {
    const { maps } = normalizeMaps(t([Number.NaN, 2, Number.POSITIVE_INFINITY, 1], [1, 4]), { mode: 'abs' });
    expect(Array.from(maps[0].data)).toEqual([0, 1, 0, 0.5]);
  });

  it('rejects unknown modes and bad percentiles, naming the allowed values', () => {
    expect(() => normalizeMaps(t([1], [1, 1]), { mode: 'log' as never })).toThrow(
      /abs, signed, percentile, minmax/,
    );
    expect(() => normalizeMaps(t([1], [1, 1]), { mode: 'percentile', clip: 0 })).toThrow(OptionError);
    expect(() => normalizeMaps(t([1], [1, 1]), { clip: 101 })).toThrow(/clip = 101/);
  });

  it('applyScale handles a degenerate scale', () => {
    expect(applyScale(3, { mode: 'minmax', low: 3, high: 3, diverging: false })).toBe(0);
    expect(applyScale(3, { mode: 'signed', low: 0, high: 0, diverging: true })).toBe(0.5);
  });
});

describe('clipped scales', () => {
  it('record the percentile that set them, so legends can say values saturate', () => {
    const t2 = { data: Float32Array.from([1, 2, 3, 100]), shape: [1, 4] };
    expect(normalizeMaps(t2, { mode: 'abs' }).scales[0][0].clip).toBeUndefined();
    expect(normalizeMaps(t2, { mode: 'percentile' }).scales[0][0].clip).toBe(99);
    const signed = normalizeMaps(t2, { mode: 'signed', clip: 50 }).scales[0][0];
    expect(signed).toMatchObject({ clip: 50, low: -2.5, high: 2.5 });
    expect(normalizeMaps(t2, { mode: 'minmax', clip: 50 }).scales[0][0].clip).toBeUndefined();
  });
});
