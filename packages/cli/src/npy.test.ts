import { InputError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

/** A hand-written .npy 1.0 file: header text as NumPy writes it, then the raw bytes. */
function handMade(descr: string, shape: string, body: Uint8Array, fortran = 'False', major = 1): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  const prefix = major === 1 ? 10 : 12;
  header += `${' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(prefix + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(body, prefix + header.length);
  return out;
}

describe('npy', () => {
  it('writes the NumPy 1.0 layout: magic, 64-byte aligned header, little-endian float32', () => {
    const bytes = encodeNpy({ data: Float32Array.from([1, -2.5, 3]), shape: [1, 3] });
    expect(String.fromCharCode(...bytes.subarray(1, 6))).toBe('NUMPY');
    expect([bytes[0], bytes[6], bytes[7]]).toEqual([0x93, 1, 0]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(1, 3\), \} *\n$/);
    // 1.0f little-endian is 00 00 80 3f
    expect(Array.from(bytes.subarray(10 + headerLength, 14 + headerLength))).toEqual([0, 0, 0x80, 0x3f]);
    expect(bytes.length).toBe(10 + headerLength + 12);
  });

  it('round-trips shapes, including 1-D and empty', () => {
    for (const shape of [[5], [2, 3, 4], [0, 3], []]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
      const back = decodeNpy(encodeNpy({ data, shape }));
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it('reads hand-made files, also format 2.0', () => {
    const body = new Uint8Array(new Float32Array([7, 8]).buffer);
    expect(Array.from(decodeNpy(handMade('<f4', '(2,)', body)).data)).toEqual([7, 8]);
    expect(decodeNpy(handMade('<f4', '(1, 2)', body, 'False', 2)).shape).toEqual([1, 2]);
  });

  it('rejects other dtypes, Fortran order, bad sizes and non-npy bytes, naming the problem', () => {
    const eight = new Uint8Array(16);
    expect(() => decodeNpy(handMade('<f8', '(2,)', eight), 'x.npy')).toThrow(
      /x\.npy: dtype is <f8, expected float32/,
    );
    expect(() => decodeNpy(handMade('<i4', '(2,)', eight.subarray(0, 8)))).toThrow(/dtype is <i4/);
    expect(() => decodeNpy(handMade('>f4', '(2,)', eight.subarray(0, 8)))).toThrow(/dtype is >f4/);
    expect(() => decodeNpy(handMade('<f4', '(2,)', eight.subarray(0, 8), 'True'))).toThrow(/Fortran order/);
    expect(() => decodeNpy(handMade('<f4', '(3,)', eight.subarray(0, 8)))).toThrow(
      /has 8 data bytes but shape \[3\] needs 12/,
    );
    expect(() => decodeNpy(new TextEncoder().encode('hello world, not numpy'))).toThrow(InputError);
  });
});
