import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor.js';
import { createRng } from './random.js';
import { felzenszwalb, felzenszwalbScales, type Segmentation, slic } from './superpixels.js';

/** A `3×h×w` image whose pixels are `left` where x < split and `right` elsewhere, plus noise. */
function twoColour(h: number, w: number, split: number, noise = 0, seed = 1): Tensor {
  const left = [0.9, 0.1, 0.1];
  const right = [0.1, 0.2, 0.9];
  const rng = createRng(seed);
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        data[c * h * w + y * w + x] = (x < split ? left[c] : right[c]) + noise * (rng.uniform() - 0.5);
  return { data, shape: [3, h, w] };
}

/** A smooth colourful image: sums of low-frequency sines per channel. */
function smooth(h: number, w: number): Tensor {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        data[c * h * w + y * w + x] =
          0.5 + 0.25 * Math.sin((x * (c + 1)) / 9 + c) + 0.25 * Math.cos((y * (3 - c)) / 11);
  return { data, shape: [3, h, w] };
}

/** Labels are 0…count−1, all used, numbered in raster order of first appearance. */
function expectContiguous(s: Segmentation): void {
  let next = 0;
  for (const l of s.labels) {
    expect(l).toBeGreaterThanOrEqual(0);
    expect(l).toBeLessThanOrEqual(next);
    if (l === next) next++;
  }
  expect(next).toBe(s.count);
  expect(s.labels.length).toBe(s.height * s.width);
}

/** Whether every segment lies on one side of the vertical line x = split. */
function respectsEdge(s: Segmentation, split: number): boolean {
  const side = new Map<number, boolean>();
  for (let p = 0; p < s.labels.length; p++) {
    const left = p % s.width < split;
    const seen = side.get(s.labels[p]);
    if (seen !== undefined && seen !== left) return false;
    side.set(s.labels[p], left);
  }
  return true;
}

describe('slic', () => {
  it('splits a two-colour image at the colour edge', () => {
    const img = twoColour(24, 24, 11, 0.05);
    for (const segments of [4, 9, 16, 25]) {
      const s = slic(img, { segments });
      expect(respectsEdge(s, 11), `segments ${segments}`).toBe(true);
      expect(s.count).toBeGreaterThanOrEqual(2);
    }
  });

  it('gives roughly the requested number of segments, labelled 0…K−1 contiguously', () => {
    const img = smooth(64, 64);
    for (const segments of [16, 50, 100]) {
      const s = slic(img, { segments });
      expectContiguous(s);
      expect(s.count, `segments ${segments}`).toBeGreaterThanOrEqual(0.5 * segments);
      expect(s.count, `segments ${segments}`).toBeLessThanOrEqual(1.5 * segments);
    }
  });

  it('adaptive (SLICO) keeps the segment count on noise', () => {
    const rng = createRng(9);
    const noise = { data: rng.fillUniform(new Float32Array(3 * 48 * 48)), shape: [3, 48, 48] };
    const s = slic(noise, { segments: 36, adaptive: true });
    expectContiguous(s);
    expect(s.count).toBeGreaterThanOrEqual(0.5 * 36);
    expect(s.count).toBeLessThanOrEqual(1.5 * 36);
    // On a two-colour image it still splits at the edge.
    expect(respectsEdge(slic(twoColour(24, 24, 11, 0.05), { segments: 9, adaptive: true }), 11)).toBe(true);
  });

  it('is deterministic and accepts [1, C, H, W]', () => {
    const img = smooth(20, 30);
    const a = slic(img, { segments: 12, compactness: 0.05 });
    const b = slic({ data: img.data, shape: [1, ...img.shape] }, { segments: 12, compactness: 0.05 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect([a.height, a.width]).toEqual([20, 30]);
  });

  it('rejects other shapes and bad options, naming them', () => {
    expect(() => slic({ data: new Float32Array(4), shape: [2, 2] })).toThrow(/\[C, H, W\].*\[2, 2\]/);
    expect(() => slic(smooth(4, 4), { segments: 0 })).toThrow(/segments = 0/);
    expect(() => slic(smooth(4, 4), { compactness: -1 })).toThrow(/compactness = -1/);
  });
});

describe('felzenszwalb', () => {
  it('splits a two-colour image into exactly its two halves', () => {
    const s = felzenszwalb(twoColour(20, 30, 13, 0.02), { scale: 100, sigma: 0, minSize: 10 });
    expect(s.count).toBe(2);
    expect(respectsEdge(s, 13)).toBe(true);
    expectContiguous(s);
  });

  it('gives fewer, larger segments as scale grows, labelled 0…K−1 contiguously', () => {
    const img = smooth(48, 48);
    const counts = [1, 30, 300, 3000].map((scale) => {
      const s = felzenszwalb(img, { scale, sigma: 0.5, minSize: 5 });
      expectContiguous(s);
      return s.count;
    });
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]);
    expect(counts[0]).toBeGreaterThan(counts[3]);
  });

  it('merges segments below minSize', () => {
    const img = twoColour(16, 16, 2, 0);
    // The left strip holds 32 pixels: kept at minSize 32, merged at 33.
    expect(felzenszwalb(img, { scale: 1, sigma: 0, minSize: 32 }).count).toBe(2);
    expect(felzenszwalb(img, { scale: 1, sigma: 0, minSize: 33 }).count).toBe(1);
  });

  it('is deterministic, and several scales at once give each scale’s own segmentation', () => {
    const img = twoColour(16, 16, 7, 0.3, 4);
    const a = felzenszwalb(img, { scale: 50 });
    const b = felzenszwalb(img, { scale: 50 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    const many = felzenszwalbScales(img, [5, 50, 500], { minSize: 3 });
    for (const [i, scale] of [5, 50, 500].entries())
      expect(Array.from(many[i].labels)).toEqual(Array.from(felzenszwalb(img, { scale, minSize: 3 }).labels));
    expect(() => felzenszwalbScales(img, [10, -1])).toThrow(/scale = -1/);
  });
});
