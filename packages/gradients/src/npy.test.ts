import { describe, expect, it } from 'vitest';
import { npyBytes } from '../test/fixtures.js';
import { parseNpy } from './npy.js';

describe('parseNpy', () => {
  it('reads float32 C-order arrays (versions 1 and 2, 1-D and n-D)', () => {
    const values = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const t = parseNpy(npyBytes('<f4', [1, 2, 3], values));
    expect(t.shape).toEqual([1, 2, 3]);
    expect([...t.data]).toEqual([...values]);
    expect(parseNpy(npyBytes('<f4', [6], values, false, 2)).shape).toEqual([6]);
  });

  it('rejects other dtypes, Fortran order, bad magic and truncated data', () => {
    expect(() => parseNpy(npyBytes('<f8', [2], new Float64Array(2)), 'x.npy')).toThrow(
      /x\.npy: dtype is <f8; expected float32/,
    );
    expect(() => parseNpy(npyBytes('<f4', [2, 2], new Float32Array(4), true))).toThrow(/Fortran order/);
    expect(() => parseNpy(new Uint8Array(20))).toThrow(/not a \.npy file/);
    expect(() => parseNpy(npyBytes('<f4', [3], new Float32Array(2)))).toThrow(/needs 12/);
  });
});
