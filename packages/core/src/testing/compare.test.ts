import { describe, expect, it } from 'vitest';
import { assertClose, oneHotRows, randomInput, randomTensor } from './compare.js';
import { referenceModel } from './reference-model.js';
import { tinyDense } from './toy-nets.js';

const t = (values: number[], shape = [values.length]) => ({ data: Float32Array.from(values), shape });

describe('assertClose', () => {
  it('accepts differences within the tolerance relative to the largest expected value', () => {
    expect(() => assertClose('x', t([100, 0.001]), t([100.005, 0]))).not.toThrow();
  });
  it('rejects larger differences, naming where', () => {
    expect(() => assertClose('x', t([1, 2.01]), t([1, 2]))).toThrow(
      /x: max \|difference\| 1\.0\d*e-2 at flat index 1 \(got 2\.0/,
    );
  });
  it('rejects shape mismatches, non-finite values and missing tensors', () => {
    expect(() => assertClose('x', t([1, 2], [1, 2]), t([1, 2], [2, 1]))).toThrow(
      /shape \[1, 2\], expected \[2, 1\]/,
    );
    expect(() => assertClose('x', t([Number.NaN]), t([0]))).toThrow(/value NaN/);
    expect(() => assertClose('x', undefined, t([0]))).toThrow(/missing/);
  });
});

describe('inputs', () => {
  it('randomInput follows the model layout and is deterministic', () => {
    const m = referenceModel(tinyDense(), { layout: 'NHWC' });
    const a = randomInput(m, 2, 3);
    expect(a.shape).toEqual([2, 4, 4, 2]);
    expect(a).toEqual(randomInput(m, 2, 3));
    expect(Math.max(...a.data)).toBeLessThanOrEqual(1);
    expect(randomTensor([3], 1, 5, 6).data.every((v) => v >= 5 && v < 6)).toBe(true);
  });
  it('oneHotRows cycles through classes', () => {
    expect(Array.from(oneHotRows(3, 2, 1).data)).toEqual([0, 1, 1, 0, 0, 1]);
  });
});
