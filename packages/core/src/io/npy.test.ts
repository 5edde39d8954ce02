import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseNpy, serializeNpy } from './npy.js';

// A plain copy: a Node Buffer may share its ArrayBuffer with others (slice() would not copy).
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../test/fixtures/npy/${name}`, import.meta.url)));
const values = [-1, -0.5, 0, 0.5, 1, 1.5];

/** A hand-written .npy: header text as numpy writes it, then the raw bytes. */
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

describe('parseNpy on files numpy wrote', () => {
  it('reads <f4 in format versions 1.0, 2.0 and 3.0, and big-endian >f4', () => {
    for (const name of ['f4.npy', 'f4-v2.npy', 'f4-v3.npy', 'f4-big-endian.npy']) {
      const t = parseNpy(fixture(name), name);
      expect(t.shape, name).toEqual([2, 3]);
      expect(Array.from(t.data), name).toEqual(values);
    }
  });

  it('rounds float64 to float32, in either byte order', () => {
    for (const name of ['f8.npy', 'f8-big-endian.npy']) {
      expect(Array.from(parseNpy(fixture(name)).data), name).toEqual(
        Array.from(Float32Array.from([0.1, -2.5, 1e-3])),
      );
    }
  });

  it('converts integers and bools to float32', () => {
    for (const code of ['i1', 'i2', 'i4', 'i8'])
      expect(Array.from(parseNpy(fixture(`${code}.npy`)).data)).toEqual([-3, 0, 7]);
    expect(Array.from(parseNpy(fixture('i2-big-endian.npy')).data)).toEqual([-3, 0, 7]);
    expect(Array.from(parseNpy(fixture('u1.npy')).data)).toEqual([3, 0, 255]);
    for (const code of ['u2', 'u4', 'u8'])
      expect(Array.from(parseNpy(fixture(`${code}.npy`)).data)).toEqual([3, 0, 65535]);
    const b = parseNpy(fixture('bool.npy'));
    expect(b.shape).toEqual([2, 2]);
    expect(Array.from(b.data)).toEqual([1, 0, 0, 1]);
  });

  it('reads scalars (shape []) and empty arrays', () => {
    expect(parseNpy(fixture('scalar.npy'))).toEqual({ data: Float32Array.from([3.5]), shape: [] });
    expect(parseNpy(fixture('empty.npy'))).toEqual({ data: new Float32Array(0), shape: [0, 3] });
  });

  it('refuses Fortran order and object, complex, float16, string and structured dtypes, naming them', () => {
    const refused: [string, RegExp][] = [
      ['fortran.npy', /fortran\.npy: array is in Fortran order/],
      ['object.npy', /object\.npy: dtype \|O \(a Python object array\) is not supported/],
      ['complex.npy', /dtype <c8 \(a complex array\)/],
      ['float16.npy', /dtype <f2 \(a float array of unsupported width\)/],
      ['unicode.npy', /dtype <U2 \(a unicode string array\)/],
      ['structured.npy', /dtype is structured/],
    ];
    for (const [name, message] of refused) {
      expect(() => parseNpy(fixture(name), name)).toThrow(message);
      expect(() => parseNpy(fixture(name), name)).toThrow(expect.objectContaining({ code: 'invalid-file' }));
    }
  });
});

describe('parseNpy on hand-made bytes', () => {
  const eight = new Uint8Array(8);

  it("refuses '|' and '=' on multi-byte types, but reads '|' on 1-byte ones", () => {
    expect(() => parseNpy(handMade('|f4', '(2,)', eight), 'x.npy')).toThrow(
      /x\.npy: dtype \|f4 gives no byte order for a 4-byte type/,
    );
    expect(() => parseNpy(handMade('=f4', '(2,)', eight))).toThrow(/dtype =f4 gives no byte order/);
    expect(() => parseNpy(handMade('f4', '(2,)', eight))).toThrow(/dtype f4 gives no byte order/);
    expect(Array.from(parseNpy(handMade('|u1', '(2,)', Uint8Array.from([1, 200]))).data)).toEqual([1, 200]);
  });

  it('reads Python 2 shapes (3L,) and double-quoted keys', () => {
    const body = new Uint8Array(new Float32Array([7, 8, 9]).buffer);
    expect(parseNpy(handMade('<f4', '(3L,)', body)).shape).toEqual([3]);
    const quoted = handMade('<f4', '(3,)', body);
    const text = new TextDecoder('latin1').decode(quoted).replaceAll("'", '"');
    expect(parseNpy(Uint8Array.from(text, (c) => c.charCodeAt(0))).shape).toEqual([3]);
  });

  it('checks declared sizes before allocating: a header claiming 2^40 values is a clear error', () => {
    expect(() => parseNpy(handMade('<f4', '(1099511627776,)', eight), 'huge.npy')).toThrow(
      /huge\.npy: header declares shape \[1099511627776\] of <f4, 1099511627776 values × 4 bytes = 4398046511104 bytes, but the file holds 8 data bytes/,
    );
    expect(() => parseNpy(handMade('<f4', '(3,)', eight))).toThrow(/= 12 bytes, but the file holds 8/);
    expect(() => parseNpy(handMade('<f4', '(1,)', eight))).toThrow(/= 4 bytes, but the file holds 8/);
  });

  it('refuses bad magic, versions, truncated headers and unreadable shapes', () => {
    expect(() => parseNpy(new TextEncoder().encode('hello world, not numpy'))).toThrow(InputError);
    expect(() => parseNpy(new Uint8Array(20))).toThrow(/not a \.npy file/);
    const v9 = handMade('<f4', '(2,)', eight);
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow(/unsupported \.npy format version 9\.0/);
    expect(() => parseNpy(handMade('<f4', '(2,)', eight).subarray(0, 40))).toThrow(/truncated header/);
    expect(() => parseNpy(handMade('<f4', '(-2,)', eight))).toThrow(/cannot read the shape/);
    expect(() => parseNpy(handMade('<f4', '(2.5,)', eight))).toThrow(/cannot read the shape/);
  });

  it('reads data that is not 4-byte aligned in its buffer', () => {
    const bytes = handMade('<f4', '(2,)', new Uint8Array(new Float32Array([1.25, -3]).buffer));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(parseNpy(shifted.subarray(1)).data)).toEqual([1.25, -3]);
  });
});

describe('serializeNpy', () => {
  it('writes exactly the bytes np.save writes for a float32 C-order array', () => {
    const t = { data: Float32Array.from(values), shape: [2, 3] };
    expect(serializeNpy(t)).toEqual(fixture('f4.npy'));
  });

  it('writes the 1.0 layout: magic, 64-byte aligned header, little-endian float32', () => {
    const bytes = serializeNpy({ data: Float32Array.from([1, -2.5, 3]), shape: [3] });
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = String.fromCharCode(...bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
    expect(Array.from(bytes.subarray(10 + headerLength, 14 + headerLength))).toEqual([0, 0, 0x80, 0x3f]);
    expect(bytes.length).toBe(10 + headerLength + 12);
  });

  it('round-trips shapes, including 1-D, empty and scalar', () => {
    for (const shape of [[5], [2, 3, 4], [0, 3], []]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
      expect(parseNpy(serializeNpy({ data, shape }))).toEqual({ data, shape });
    }
  });

  it('writes only the tensor view of a shared buffer', () => {
    const big = Float32Array.from([9, 1, 2, 9]);
    expect(Array.from(parseNpy(serializeNpy({ data: big.subarray(1, 3), shape: [2] })).data)).toEqual([1, 2]);
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => serializeNpy({ data: new Float32Array(3), shape: [2, 2] })).toThrow(
      expect.objectContaining({ code: 'invalid-shape' }),
    );
  });
});
