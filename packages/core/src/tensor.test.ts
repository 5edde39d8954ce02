import { describe, expect, it } from 'vitest';
import {
  clone,
  concatBatch,
  firstNonFinite,
  full,
  item,
  map,
  reshape,
  sameShape,
  sizeOf,
  sliceBatch,
  sumPerItem,
  tensor,
  zeros,
  zipWith,
} from './tensor.js';

describe('tensor helpers', () => {
  it('tensor() checks that data matches the shape', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], [2, 3]).data).toBeInstanceOf(Float32Array);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(
      expect.objectContaining({
        code: 'invalid-shape',
        message: expect.stringContaining('3 values but shape [2, 2] needs 4'),
      }),
    );
    expect(() => tensor([1], [1.5])).toThrow(/not a non-negative integer/);
    expect(() => tensor([], [-1])).toThrow(/not a non-negative integer/);
  });
  it('zeros, full, sizeOf, sameShape', () => {
    expect(Array.from(zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(full([3], 7).data)).toEqual([7, 7, 7]);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([])).toBe(1);
    expect(sameShape([1, 2], [1, 2])).toBe(true);
    expect(sameShape([1, 2], [2, 1])).toBe(false);
    expect(sameShape([1], [1, 1])).toBe(false);
  });
  it('sliceBatch copies, item views, clone copies', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    const s = sliceBatch(t, 1, 3);
    expect(s.shape).toEqual([2, 2]);
    expect(Array.from(s.data)).toEqual([3, 4, 5, 6]);
    s.data[0] = 99;
    expect(t.data[2]).toBe(3);
    const v = item(t, 2);
    expect(v.shape).toEqual([1, 2]);
    v.data[0] = 42;
    expect(t.data[4]).toBe(42);
    const c = clone(t);
    c.data[0] = -1;
    expect(t.data[0]).toBe(1);
  });
  it('concatBatch stacks along the first axis and rejects mismatches', () => {
    const a = tensor([1, 2], [1, 2]);
    const b = tensor([3, 4, 5, 6], [2, 2]);
    const c = concatBatch([a, b]);
    expect(c.shape).toEqual([3, 2]);
    expect(Array.from(c.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => concatBatch([a, tensor([1, 2, 3], [1, 3])])).toThrow(/cannot stack \[1, 3\] with \[1, 2\]/);
    expect(() => concatBatch([])).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
  it('reshape shares data and checks sizes', () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    expect(reshape(t, [4]).data).toBe(t.data);
    expect(() => reshape(t, [3])).toThrow(/cannot reshape \[2, 2\] to \[3\]/);
  });
  it('firstNonFinite, map, zipWith, sumPerItem', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, Number.NaN, Number.POSITIVE_INFINITY))).toBe(2);
    expect(firstNonFinite(Float32Array.of(1, 2))).toBe(-1);
    expect(Array.from(map(tensor([1, 2], [2]), (v, i) => v * 10 + i).data)).toEqual([10, 21]);
    expect(Array.from(zipWith(tensor([1, 2], [2]), tensor([3, 4], [2]), (x, y) => x * y).data)).toEqual([
      3, 8,
    ]);
    expect(() => zipWith(tensor([1, 2], [2]), tensor([1, 2], [1, 2]), (x) => x)).toThrow(/shapes differ/);
    expect(Array.from(sumPerItem(tensor([1, 2, 3, 4, 5, 6], [2, 3])))).toEqual([6, 15]);
  });
});
