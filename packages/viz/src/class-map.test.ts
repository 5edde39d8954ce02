import { describe, expect, it } from 'vitest';
import { classLegend, classPalette, colorizeClasses } from './class-map.js';
import { oklabDistance, rgb8ToOklab } from './color-space.js';

describe('class maps', () => {
  it('gives ten clearly different colours', () => {
    const p = classPalette(10);
    expect(p).toHaveLength(10);
    for (let i = 0; i < p.length; i++)
      for (let j = i + 1; j < p.length; j++)
        expect(oklabDistance(rgb8ToOklab(p[i]), rgb8ToOklab(p[j]))).toBeGreaterThan(0.08);
  });

  it('colours each pixel by its class, brightness by response', () => {
    const palette = classPalette(3);
    const img = colorizeClasses([0, 2, 1, 2], [1, 1, 0, 0.5], 2, 2, palette);
    expect(Array.from(img.data.subarray(0, 3))).toEqual(palette[0]);
    expect(Array.from(img.data.subarray(4, 7))).toEqual(palette[2]);
    const dark = Array.from(img.data.subarray(8, 11));
    for (const [k, v] of dark.entries()) expect(v).toBeCloseTo(0.15 * palette[1][k], -0.5);
    expect(() => colorizeClasses([0], [1, 1], 1, 1, palette)).toThrow(/1×1/);
  });

  it('lists the classes present, with labels', () => {
    const legend = classLegend([3, 1, 3, 1, 1], ['a', 'b', 'c', 'd']);
    expect(legend.map((e) => [e.index, e.label])).toEqual([
      [1, 'b'],
      [3, 'd'],
    ]);
    expect(legend[1].color).toEqual(classPalette(4)[3]);
    expect(classLegend([0])[0].label).toBe('class 0');
  });
});
