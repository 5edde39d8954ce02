import { describe, expect, it } from 'vitest';
import { MARK_BOX } from './mark.js';
import { sampleImages } from './samples.js';

describe('sampleImages', () => {
  it('gives one shapes image per class, with masks and boxes, deterministically', () => {
    const s = sampleImages('shapes');
    expect(s.images.shape).toEqual([6, 64, 64, 3]);
    expect(Array.from(s.labels).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.masks?.shape).toEqual([6, 64, 64]);
    expect(s.boxes).toHaveLength(6);
    expect(s.names).toEqual(Array.from(s.labels, (l, i) => `0${i}-${s.classNames[l]}`));
    expect(sampleImages('shapes').images.data).toEqual(s.images.data);
  });

  it('marks the star in the shortcut samples and nothing else', () => {
    const s = sampleImages('shapes-shortcut', 12);
    const px = 64 * 64;
    for (let i = 0; i < 12; i++) {
      const isStar = s.classNames[s.labels[i]] === 'star';
      expect(s.marked?.[i]).toBe(isStar ? 1 : 0);
      const area = s.markMasks!.data.subarray(i * px, (i + 1) * px).reduce((a, b) => a + b, 0);
      expect(area).toBe(isStar ? (MARK_BOX[2] - MARK_BOX[0]) * (MARK_BOX[3] - MARK_BOX[1]) : 0);
    }
  });

  it('gives MNIST test digits', () => {
    const s = sampleImages('mnist', 4);
    expect(s.images.shape).toEqual([4, 28, 28, 1]);
    expect(s.masks).toBeUndefined();
    expect(s.names).toHaveLength(4);
  });

  it('rejects unknown models and bad counts', () => {
    expect(() => sampleImages('cifar')).toThrow(/unknown zoo model 'cifar'/);
    expect(() => sampleImages('shapes', 0)).toThrow(/count must be an integer in \[1, 1000\], got 0/);
  });
});
