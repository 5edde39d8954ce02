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
