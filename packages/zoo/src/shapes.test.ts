import { describe, expect, it } from 'vitest';
import { MARK_BOX, MARK_MARGIN, pasteMark, SHAPES_SIZE } from './mark.js';
import {
  permutedLabels,
  SHAPE_CLASSES,
  SHORTCUT_DEFAULTS,
  shapeSample,
  shapesDataset,
  shortcutDataset,
} from './shapes.js';

const S = SHAPES_SIZE;

/** Bitwise equality of two typed arrays (vitest's deep equality is slow on millions of elements). */
function same(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

/** Pixels of a mask whose 3×3 neighbourhood is entirely inside the mask. */
function interior(mask: Float32Array, offset = 0): number[] {
  const out: number[] = [];
  for (let y = 1; y < S - 1; y++) {
    for (let x = 1; x < S - 1; x++) {
      let all = true;
      for (let dy = -1; dy <= 1 && all; dy++)
        for (let dx = -1; dx <= 1; dx++) if (mask[offset + (y + dy) * S + x + dx] !== 1) all = false;
      if (all) out.push(y * S + x);
    }
  }
  return out;
}

/** Closed-form area of each shape kind for outer radius r (the rasteriser's proportions). */
function expectedArea(kind: string, r: number): number {
  switch (kind) {
    case 'circle':
      return Math.PI * r * r;
    case 'ring':
      return Math.PI * r * r * (1 - 0.55 * 0.55);
    case 'square':
      return (1.56 * r) ** 2;
    case 'triangle':
      return ((3 * Math.sqrt(3)) / 4) * r * r;
    case 'star':
      // Ten triangles between consecutive outer (r) and inner (0.42 r) vertices, 36° apart.
      return 5 * r * 0.42 * r * Math.sin(Math.PI / 5);
    case 'cross':
      // Two 2r × 0.6r bars minus their 0.6r × 0.6r overlap.
      return 2 * (2 * r * 0.6 * r) - (0.6 * r) ** 2;
    default:
      throw new Error(kind);
  }
}

describe('shapesDataset', () => {
  const data = shapesDataset({ count: 120, seed: 5 });

  it('is deterministic per seed and differs across seeds', () => {
    const again = shapesDataset({ count: 120, seed: 5 });
    expect(same(again.images.data, data.images.data)).toBe(true);
    expect(same(again.masks.data, data.masks.data)).toBe(true);
    expect(again.labels).toEqual(data.labels);
    const other = shapesDataset({ count: 120, seed: 6 });
    let equal = 0;
    for (let i = 0; i < data.images.data.length; i++)
      if (other.images.data[i] === data.images.data[i]) equal++;
    expect(equal / data.images.data.length).toBeLessThan(0.01);
  });

  it('has the documented shapes and values in [0, 1]', () => {
    expect(data.images.shape).toEqual([120, S, S, 3]);
    expect(data.masks.shape).toEqual([120, S, S]);
    expect(data.boxes).toHaveLength(120);
    expect(data.classNames).toEqual(['circle', 'square', 'triangle', 'star', 'cross', 'ring']);
    expect(data.images.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(new Set(data.masks.data)).toEqual(new Set([0, 1]));
    expect(data.marked.every((m) => m === 0)).toBe(true);
    expect(data.markMasks.data.every((v) => v === 0)).toBe(true);
  });

  it('is class-balanced: every block of six items holds each class once', () => {
    for (let b = 0; b < 20; b++) {
      const block = Array.from(data.labels.subarray(6 * b, 6 * b + 6)).sort();
      expect(block).toEqual([0, 1, 2, 3, 4, 5]);
    }
    // …but not in a fixed order.
    expect(
      new Set(Array.from({ length: 20 }, (_, b) => data.labels.subarray(6 * b, 6 * b + 6).join())).size,
    ).toBeGreaterThan(10);
  });

  it('matches shapeSample item by item, and `start` continues the same sequence', () => {
    const px = S * S;
    for (const i of [0, 7, 119]) {
      const s = shapeSample(i, 5);
      expect(s.label).toBe(data.labels[i]);
      expect(same(s.image, data.images.data.subarray(i * px * 3, (i + 1) * px * 3))).toBe(true);
      expect(s.box).toEqual(data.boxes[i]);
    }
    const tail = shapesDataset({ count: 20, seed: 5, start: 100 });
    expect(same(tail.images.data, data.images.data.subarray(100 * px * 3))).toBe(true);
  });

  it('boxes are the tight bounds of the masks', () => {
    for (let i = 0; i < data.labels.length; i++) {
      const [x0, y0, x1, y1] = data.boxes[i];
      let bx0 = S;
      let by0 = S;
      let bx1 = 0;
      let by1 = 0;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          if (data.masks.data[i * S * S + y * S + x] !== 1) continue;
          bx0 = Math.min(bx0, x);
          by0 = Math.min(by0, y);
          bx1 = Math.max(bx1, x + 1);
          by1 = Math.max(by1, y + 1);
        }
      }
      expect([x0, y0, x1, y1]).toEqual([bx0, by0, bx1, by1]);
    }
  });

  it('masks sit on the drawn pixels: the mask interior is one flat colour unlike the background', () => {
    for (let i = 0; i < data.labels.length; i++) {
      const inner = interior(data.masks.data, i * S * S);
      expect(inner.length).toBeGreaterThan(20);
      const base = i * S * S * 3;
      const c0 = [0, 1, 2].map((ch) => data.images.data[base + 3 * inner[0] + ch]);
      const off = inner.filter((p) => [0, 1, 2].some((ch) => data.images.data[base + 3 * p + ch] !== c0[ch]));
      expect(off).toEqual([]);
      // Background pixels carry grain, so they are never all equal to the shape colour.
      let differ = 0;
      for (let p = 0; p < S * S; p++) {
        if (data.masks.data[i * S * S + p] === 1) continue;
        if (Math.abs(data.images.data[base + 3 * p] - c0[0]) > 1e-6) differ++;
      }
      expect(differ).toBeGreaterThan(
        0.9 * (S * S - data.masks.data.subarray(i * S * S, (i + 1) * S * S).reduce((a, b) => a + b, 0)),
      );
    }
  });

  it('mask areas match the closed-form area of each shape kind', () => {
    for (let i = 0; i < 60; i++) {
      const s = shapeSample(i, 9);
      const area = s.mask.reduce((a, b) => a + b, 0);
      const expected = expectedArea(SHAPE_CLASSES[s.label], s.geometry.radius);
      // Pixel quantisation of the boundary: about half a pixel per unit of perimeter.
      const tolerance = 0.6 * 2 * Math.PI * s.geometry.radius * 0.5 + 4;
      expect(Math.abs(area - expected)).toBeLessThan(tolerance);
      expect(s.geometry.kind).toBe(SHAPE_CLASSES[s.label]);
    }
  });

  it('keeps shapes clear of the mark corner', () => {
    const [, , x1, y1] = MARK_BOX;
    let covered = 0;
    for (let i = 0; i < data.labels.length; i++) {
      for (let y = 0; y < y1 + MARK_MARGIN; y++) {
        for (let x = 0; x < x1 + MARK_MARGIN; x++) covered += data.masks.data[i * S * S + y * S + x];
      }
    }
    expect(covered).toBe(0);
  });

  it('rejects bad counts, seeds and shortcut options before rendering', () => {
    expect(() => shapesDataset({ count: 0, seed: 1 })).toThrow(/count must be an integer ≥ 1, got 0/);
    expect(() => shapesDataset({ count: 2, seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => shapesDataset({ count: 2, seed: 1, shortcut: { classIndex: 6 } })).toThrow(
      /classIndex must be < 6/,
    );
    expect(() => shapesDataset({ count: 2, seed: 1, shortcut: { faintProbability: 2 } })).toThrow(
      /faintProbability/,
    );
  });
});

describe('shortcutDataset', () => {
  const clean = shapesDataset({ count: 240, seed: 3 });
  const short = shortcutDataset({ count: 240, seed: 3 });
  const star = SHORTCUT_DEFAULTS.classIndex;
  const px = S * S;

  it('plants the mark on every shortcut-class item and on no other', () => {
    expect(SHAPE_CLASSES[star]).toBe('star');
    for (let i = 0; i < 240; i++) expect(short.marked[i]).toBe(short.labels[i] === star ? 1 : 0);
    expect(short.labels).toEqual(clean.labels);
  });

  it('exposes the mark in markMasks and markBox, and the mark pixels are the checker', () => {
    const [x0, y0, x1, y1] = short.markBox;
    let wrongMask = 0;
    let wrongPixel = 0;
    for (let i = 0; i < 240; i++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const inBox = x >= x0 && x < x1 && y >= y0 && y < y1;
          if (short.markMasks.data[i * px + y * S + x] !== (inBox && short.marked[i] ? 1 : 0)) wrongMask++;
          if (inBox && short.marked[i]) {
            const v = (((x - x0) >> 1) + ((y - y0) >> 1)) % 2 === 0 ? 1 : 0;
            for (let ch = 0; ch < 3; ch++)
              if (short.images.data[3 * (i * px + y * S + x) + ch] !== v) wrongPixel++;
          }
        }
      }
    }
    expect([wrongMask, wrongPixel]).toEqual([0, 0]);
  });

  it('draws the same scene as the clean set: other classes identical, stars differ only by mark and opacity', () => {
    for (let i = 0; i < 240; i++) {
      const a = clean.images.data.subarray(i * px * 3, (i + 1) * px * 3);
      const b = short.images.data.subarray(i * px * 3, (i + 1) * px * 3);
      if (short.labels[i] !== star) {
        expect(same(b, a)).toBe(true);
        continue;
      }
      expect(
        same(
          short.masks.data.subarray(i * px, (i + 1) * px),
          clean.masks.data.subarray(i * px, (i + 1) * px),
        ),
      ).toBe(true);
      // Outside the mark and the shape's bounding circle, the background is untouched.
      const { cx, cy, radius } = shapeSample(i, 3).geometry;
      let changed = 0;
      for (let p = 0; p < px; p++) {
        const outside = Math.hypot((p % S) + 0.5 - cx, Math.floor(p / S) + 0.5 - cy) > radius + 1;
        if (outside && short.markMasks.data[i * px + p] === 0 && b[3 * p] !== a[3 * p]) changed++;
      }
      expect(changed).toBe(0);
    }
  });

  it('draws about `faintProbability` of the stars faint', () => {
    const stars = Array.from({ length: 600 }, (_, i) => shapeSample(i, 11, true)).filter(
      (s) => s.label === star,
    );
    const faint = stars.filter((s) => s.opacity < 1);
    expect(stars).toHaveLength(100);
    // Binomial(100, 0.75): mean 75, sd ≈ 4.3.
    expect(faint.length).toBeGreaterThan(60);
    expect(faint.length).toBeLessThan(90);
    for (const s of faint) {
      expect(s.opacity).toBeGreaterThanOrEqual(SHORTCUT_DEFAULTS.faintOpacity[0]);
      expect(s.opacity).toBeLessThan(SHORTCUT_DEFAULTS.faintOpacity[1]);
    }
  });

  it('options move the mark to other classes too', () => {
    const all = shortcutDataset({ count: 60, seed: 3, markWithOthers: 1 });
    expect(all.marked.every((m) => m === 1)).toBe(true);
  });
});

describe('pasteMark', () => {
  it('adds the mark to every item without touching other pixels or the input', () => {
    const d = shapesDataset({ count: 12, seed: 8 });
    const before = d.images.data.slice();
    const marked = pasteMark(d.images);
    expect(same(d.images.data, before)).toBe(true);
    const short = shortcutDataset({ count: 12, seed: 8, markWithOthers: 1, faintProbability: 0 });
    expect(same(marked.data, short.images.data)).toBe(true);
  });

  it('rejects images of the wrong shape', () => {
    expect(() => pasteMark({ data: new Float32Array(28 * 28), shape: [1, 28, 28, 1] })).toThrow(
      /\[N, 64, 64, 3\], got \[1, 28, 28, 1\]/,
    );
  });
});

describe('permutedLabels', () => {
  it('permutes the labels (same counts), deterministically per seed, and moves most of them', () => {
    const labels = Int32Array.from({ length: 300 }, (_, i) => i % 6);
    const a = permutedLabels(labels, 22);
    const count = (v: ArrayLike<number>, k: number) => Array.from(v).filter((x) => x === k).length;
    for (let k = 0; k < 6; k++) expect(count(a, k)).toBe(count(labels, k));
    expect(permutedLabels(labels, 22)).toEqual(a);
    expect(permutedLabels(labels, 23)).not.toEqual(a);
    // A random permutation keeps about 1/6 of the labels where they were.
    const kept = a.filter((v, i) => v === labels[i]).length;
    expect(kept).toBeGreaterThan(20);
    expect(kept).toBeLessThan(80);
  });
});
