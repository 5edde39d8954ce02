import { describe, expect, it } from 'vitest';
import { chunkRanges } from './batching.js';

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
});
