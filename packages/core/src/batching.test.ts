import { describe, expect, it } from 'vitest';
import { chunkRanges, mapChunks } from './batching.js';
import { tensor } from './tensor.js';

describe('batching', () => {
  it('chunkRanges covers the total in steps', () => {
    expect(chunkRanges(5, 2)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(chunkRanges(0, 4)).toEqual([]);
    expect(chunkRanges(3, 0)).toHaveLength(3);
  });
  it('mapChunks runs per chunk and stacks the results', async () => {
    const starts: number[] = [];
    const out = await mapChunks(tensor([1, 2, 3, 4, 5], [5, 1]), 2, async (chunk, start) => {
      starts.push(start);
      return { data: chunk.data.map((v) => v * 2), shape: chunk.shape };
    });
    expect(starts).toEqual([0, 2, 4]);
    expect(Array.from(out.data)).toEqual([2, 4, 6, 8, 10]);
  });
});
