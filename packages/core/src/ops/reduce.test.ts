import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor.js';
import {
  type ChannelReduction,
  imageDims,
  reduceChannels,
  toChannelsFirst,
  toChannelsLast,
} from './reduce.js';

// One item, 2 channels, 1×2 pixels: channel 0 = (1, −3), channel 1 = (−2, 4).
const nchw = tensor([1, -3, -2, 4], [1, 2, 1, 2]);
const nhwc = tensor([1, -2, -3, 4], [1, 1, 2, 2]);

describe('reduceChannels', () => {
  const expected: Record<ChannelReduction, number[]> = {
    sum: [-1, 1],
    mean: [-0.5, 0.5],
    max: [1, 4],
    'max-abs': [2, 4],
    'abs-sum': [3, 7],
    'sum-abs': [3, 7],
    l2: [Math.sqrt(5), 5],
  };
  for (const [how, want] of Object.entries(expected) as [ChannelReduction, number[]][]) {
    it(`${how} in both layouts`, () => {
      for (const [t, layout] of [
        [nchw, 'NCHW'],
        [nhwc, 'NHWC'],
      ] as const) {
        const out = reduceChannels(t, layout, how);
        expect(out.shape).toEqual([1, 1, 2]);
        for (let i = 0; i < want.length; i++) expect(out.data[i]).toBeCloseTo(want[i], 6);
      }
    });
  }
  it('matches a per-pixel reference on several items and channels, in both layouts', () => {
    const [n, c, h, w] = [2, 3, 2, 3];
    const data = Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i * 1.7) * (i % 5) - 1);
    const first = tensor(data, [n, c, h, w]);
    const last = toChannelsLast(first);
    const reference: Record<ChannelReduction, (v: number[]) => number> = {
      sum: (v) => v.reduce((a, b) => a + b, 0),
      mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
      max: (v) => Math.max(...v),
      'max-abs': (v) => Math.max(...v.map(Math.abs)),
      'abs-sum': (v) => v.reduce((a, b) => a + Math.abs(b), 0),
      'sum-abs': (v) => v.reduce((a, b) => a + Math.abs(b), 0),
      l2: (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)),
    };
    for (const [how, ref] of Object.entries(reference) as [ChannelReduction, (v: number[]) => number][]) {
      const a = reduceChannels(first, 'NCHW', how);
      const b = reduceChannels(last, 'NHWC', how);
      expect(a.shape).toEqual([n, h, w]);
      for (let item = 0; item < n; item++)
        for (let p = 0; p < h * w; p++) {
          const values = Array.from({ length: c }, (_, k) => first.data[(item * c + k) * h * w + p]);
          expect(a.data[item * h * w + p]).toBeCloseTo(ref(values), 5);
          expect(b.data[item * h * w + p]).toBe(a.data[item * h * w + p]);
        }
    }
  });
  it('max and max-abs keep a NaN in any channel', () => {
    for (const k of [0, 1]) {
      const data = [1, 2, 3, 4];
      data[k * 2] = Number.NaN;
      const t = tensor(data, [1, 2, 1, 2]);
      expect(reduceChannels(t, 'NCHW', 'max').data[0]).toBeNaN();
      expect(reduceChannels(t, 'NCHW', 'max-abs').data[0]).toBeNaN();
      expect(reduceChannels(t, 'NCHW', 'max').data[1]).toBe(4);
    }
  });
  it('layout conversions are inverse and match the hand layout', () => {
    expect(Array.from(toChannelsLast(nchw).data)).toEqual(Array.from(nhwc.data));
    expect(Array.from(toChannelsFirst(nhwc).data)).toEqual(Array.from(nchw.data));
    expect(toChannelsFirst(nhwc).shape).toEqual([1, 2, 1, 2]);
  });
  it('imageDims reads both layouts and rejects non-4-D shapes', () => {
    expect(imageDims([2, 3, 4, 5], 'NCHW')).toEqual({ n: 2, c: 3, h: 4, w: 5 });
    expect(imageDims([2, 4, 5, 3], 'NHWC')).toEqual({ n: 2, c: 3, h: 4, w: 5 });
    expect(() => imageDims([2, 3], 'NCHW')).toThrow(/4-D/);
  });
});
