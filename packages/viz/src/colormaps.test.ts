import { OptionError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { cieLightness, oklabDistance, rgb8ToOklab, type Triple } from './color-space.js';
import { colorAt, colormapNames, getColormap } from './colormaps.js';

const entry = (name: string, k: number): Triple => {
  const c = getColormap(name);
  return [c.lut[k * 3], c.lut[k * 3 + 1], c.lut[k * 3 + 2]];
};
const uniform = ['lagoon', 'ember', 'dusk'];

describe('sequential colormaps', () => {
  it.each(uniform)('%s runs from dark to light with monotonically rising lightness', (name) => {
    const c = getColormap(name);
    expect(c.kind).toBe('sequential');
    const lightness = Array.from({ length: c.size }, (_, k) => cieLightness(entry(name, k)));
    expect(lightness[0]).toBeLessThan(25);
    expect(lightness[c.size - 1]).toBeGreaterThan(88);
    // 8-bit rounding may wobble neighbours by a hair; over 4 entries the rise must be clear.
    for (let k = 1; k < c.size; k++) expect(lightness[k]).toBeGreaterThan(lightness[k - 1] - 0.05);
    for (let k = 4; k < c.size; k += 4) expect(lightness[k] - lightness[k - 4]).toBeGreaterThan(0.5);
  });

  it.each(uniform)(
    '%s has near-equal perceptual steps (OKLab distance per 16 entries within ±12%%)',
    (name) => {
      const steps: number[] = [];
      for (let k = 16; k < 256; k += 16)
        steps.push(oklabDistance(rgb8ToOklab(entry(name, k - 16)), rgb8ToOklab(entry(name, k))));
      const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
      for (const s of steps) expect(Math.abs(s - mean) / mean).toBeLessThan(0.12);
    },
  );

  it('has the character of its namesakes at the ends', () => {
    const [r0, g0, b0] = entry('lagoon', 0);
    expect(b0).toBeGreaterThan(g0); // violet start
    expect(r0).toBeGreaterThan(g0);
    const [r1, g1, b1] = entry('lagoon', 255);
    expect(Math.min(r1, g1)).toBeGreaterThan(200); // yellow end
    expect(b1).toBeLessThan(120);
    for (const name of ['ember', 'dusk']) expect(Math.max(...entry(name, 0))).toBeLessThan(30); // near black
  });

  it('gray is the identity ramp', () => {
    expect(entry('gray', 0)).toEqual([0, 0, 0]);
    expect(entry('gray', 255)).toEqual([255, 255, 255]);
    expect(entry('gray', 128)).toEqual([128, 128, 128]);
  });
});

describe('diverging colormap', () => {
  const c = getColormap('blue-red');
  const mid = (c.size - 1) / 2;

  it('is white at 0.5, blue below and red above', () => {
    expect(c.kind).toBe('diverging');
    expect(Math.min(...colorAt(c, 0.5))).toBeGreaterThanOrEqual(245);
    const [rb, , bb] = colorAt(c, 0);
    const [rr, , br] = colorAt(c, 1);
    expect(bb).toBeGreaterThan(rb + 80);
    expect(rr).toBeGreaterThan(br + 80);
  });

  it('has lightness symmetric about the centre and falling towards both ends', () => {
    for (let k = 0; k < mid; k++) {
      const lo = cieLightness(entry('blue-red', k));
      const hi = cieLightness(entry('blue-red', c.size - 1 - k));
      expect(Math.abs(lo - hi)).toBeLessThan(3);
      expect(cieLightness(entry('blue-red', k + 1))).toBeGreaterThan(lo);
      expect(cieLightness(entry('blue-red', c.size - 2 - k))).toBeGreaterThan(hi);
    }
  });
});

describe('lookup', () => {
  it('clamps out-of-range values and treats NaN as 0', () => {
    const c = getColormap('ember');
    expect(colorAt(c, -3)).toEqual(colorAt(c, 0));
    expect(colorAt(c, 7)).toEqual(colorAt(c, 1));
    expect(colorAt(c, Number.NaN)).toEqual(colorAt(c, 0));
  });

  it('names every colormap and rejects unknown names with the list', () => {
    for (const n of colormapNames) expect(getColormap(n).name).toBe(n);
    expect(() => getColormap('viridis')).toThrow(OptionError);
    expect(() => getColormap('viridis')).toThrow(/lagoon, ember, dusk, gray, blue-red/);
  });
});
