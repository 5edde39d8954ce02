import { describe, expect, it } from 'vitest';
import { MNIST_CLASSES, mnistSamples, mnistSplitSize } from './mnist.js';

const PX = 28 * 28;

/** A cheap fingerprint of one image, to compare sets of images. */
function fingerprint(data: Float32Array, i: number): string {
  return Buffer.from(data.buffer, data.byteOffset + i * PX * 4, PX * 4).toString('base64');
}

describe('mnistSamples', () => {
  it('returns N×28×28×1 images in [0, 1] with labels', () => {
    const s = mnistSamples(50, 1);
    expect(s.images.shape).toEqual([50, 28, 28, 1]);
    expect(s.labels).toHaveLength(50);
    expect(s.classNames).toEqual(MNIST_CLASSES);
    expect(s.images.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // Digits are white strokes on black: a minority of pixels is lit in every image.
    for (let i = 0; i < 50; i++) {
      let lit = 0;
      for (let p = 0; p < PX; p++) if (s.images.data[i * PX + p] > 0.5) lit++;
      expect(lit).toBeGreaterThan(20);
      expect(lit).toBeLessThan(PX / 2);
    }
  });

  it('is deterministic per seed and shuffled differently across seeds', () => {
    const a = mnistSamples(40, 7);
    const b = mnistSamples(40, 7);
    const c = mnistSamples(40, 8);
    expect(Buffer.from(a.images.data.buffer).equals(Buffer.from(b.images.data.buffer))).toBe(true);
    expect(a.labels).toEqual(b.labels);
    expect(Array.from(c.labels)).not.toEqual(Array.from(a.labels));
  });

  it('draws without replacement, and the train and test splits are disjoint', () => {
    const nTrain = mnistSplitSize('train');
    const nTest = mnistSplitSize('test');
    expect(nTrain + nTest).toBe(mnistSplitSize('all'));
    expect(nTest / (nTrain + nTest)).toBeCloseTo(0.2, 2);
    const test = mnistSamples(nTest, 3, { split: 'test' });
    const train = mnistSamples(nTrain, 3, { split: 'train' });
    const testPrints = new Set(Array.from({ length: nTest }, (_, i) => fingerprint(test.images.data, i)));
    // The package holds a few exact duplicate images; they must not span the split in bulk.
    let shared = 0;
    for (let i = 0; i < nTrain; i++) if (testPrints.has(fingerprint(train.images.data, i))) shared++;
    expect(shared).toBeLessThan(5);
    expect(testPrints.size).toBeGreaterThan(nTest - 5);
  });

  it('covers every digit in roughly equal shares', () => {
    const s = mnistSamples(1000, 5, { split: 'all' });
    const counts = new Array(10).fill(0);
    for (const l of s.labels) counts[l]++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(60);
      expect(c).toBeLessThan(140);
    }
  });

  it('rejects counts beyond the split and unknown splits', () => {
    expect(() => mnistSamples(0, 1)).toThrow(/count must be an integer in \[1, \d+\]/);
    expect(() => mnistSamples(mnistSplitSize('test') + 1, 1)).toThrow(/for split 'test'/);
    expect(() => mnistSamples(1, 1, { split: 'valid' as never })).toThrow(
      /split must be 'train', 'test' or 'all', got 'valid'/,
    );
  });
});
