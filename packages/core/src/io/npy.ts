import { InputError } from '../errors.js';
import { sizeOf, type Tensor } from '../tensor.js';

/**
 * NumPy `.npy` from and to bytes, with one dtype policy for every xlens package (format:
 * numpy.org/doc/stable/reference/generated/numpy.lib.format.html). Reading returns float32:
 *
 * - `<f4` and `>f4` as they are; `<f8` / `>f8` rounded to float32 — passing float64 data is the
 *   user's choice, and the precision it loses (below ~7 significant digits; values beyond ±3.4e38
 *   become ±Infinity) is accepted with it;
 * - integers `i1 u1 i2 u2 i4 u4 i8 u8` converted to float32 (exact up to 2^24 in magnitude, rounded
 *   beyond); `i8`/`u8` are included because they are numpy's default integer type;
 * - `|b1` (bool) as 0 and 1;
 * - big-endian (`>`) data is byte-swapped: a DataView reads either order, so refusing it would only
 *   cost the user a conversion.
 *
 * Refused, with an error naming what was found: Fortran order; object (`|O`), string, complex,
 * datetime, float16 and structured dtypes; and `|` or `=` on a multi-byte type. numpy writes `|`
 * only for 1-byte types (where byte order means nothing) and never writes `=`; `np.dtype('|f4')`
 * means *the reading machine's* order, so such a file has no fixed meaning and is refused rather
 * than guessed at.
 *
 * Writing emits format version 1.0, little-endian float32 (`<f4`), C order, the header padded so
 * that the data starts at a multiple of 64 bytes — byte-for-byte what `np.save` writes.
 */

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Whether this machine stores typed arrays little-endian (then float32 data is copied, not decoded). */
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Decoder {
  readonly size: number;
  read(view: DataView, at: number, little: boolean): number;
}

const decoders: Readonly<Record<string, Decoder>> = {
  f4: { size: 4, read: (v, at, le) => v.getFloat32(at, le) },
  f8: { size: 8, read: (v, at, le) => v.getFloat64(at, le) },
  i1: { size: 1, read: (v, at) => v.getInt8(at) },
  u1: { size: 1, read: (v, at) => v.getUint8(at) },
  b1: { size: 1, read: (v, at) => (v.getUint8(at) === 0 ? 0 : 1) },
  i2: { size: 2, read: (v, at, le) => v.getInt16(at, le) },
  u2: { size: 2, read: (v, at, le) => v.getUint16(at, le) },
  i4: { size: 4, read: (v, at, le) => v.getInt32(at, le) },
  u4: { size: 4, read: (v, at, le) => v.getUint32(at, le) },
  i8: { size: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  u8: { size: 8, read: (v, at, le) => Number(v.getBigUint64(at, le)) },
};

/** The dtypes `parseNpy` reads, for messages. */
const accepted = 'float32/float64 (<f4 >f4 <f8 >f8), integers (i1 u1 i2 u2 i4 u4 i8 u8) or bool (|b1)';

/** What a refused type code is, so the message says more than the code. */
function describeType(code: string): string {
  const kind = code.replace(/\d+$/, '');
  const names: Record<string, string> = {
    O: 'a Python object array',
    U: 'a unicode string array',
    S: 'a byte string array',
    a: 'a byte string array',
    V: 'a raw void/record array',
    c: 'a complex array',
    M: 'a datetime array',
    m: 'a timedelta array',
    f: 'a float array of unsupported width',
  };
  return names[kind] ?? 'an unsupported type';
}

/** The byte order and decoder of a `descr` string, or an error naming it. */
function dtypeOf(descr: string, fail: (why: string) => never): { decoder: Decoder; little: boolean } {
  const match = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(descr);
  const order = match?.[1] ?? '';
  const code = match?.[2] ?? descr;
  const decoder = match ? decoders[code] : undefined;
  if (!decoder) {
    fail(
      `dtype ${descr} (${describeType(code)}) is not supported; expected ${accepted} — convert with a.astype(np.float32)`,
    );
  }
  if (decoder!.size > 1 && order !== '<' && order !== '>') {
    fail(
      `dtype ${descr} gives no byte order for a ${decoder!.size}-byte type (numpy writes '|' only for 1-byte types, and reads '${order || 'no prefix'}' in the reading machine's order); save with np.save, which writes '<${code}'`,
    );
  }
  return { decoder: decoder!, little: order !== '>' };
}

/** The dimensions in a header's shape tuple text, e.g. `3, 4` or `3L, 4L` (Python 2 files). */
function parseShape(text: string, fail: (why: string) => never): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => {
    const digits = p.replace(/L$/, '');
    const d = Number(digits);
    if (!/^\d+$/.test(digits) || !Number.isSafeInteger(d)) fail(`cannot read the shape (${text})`);
    return d;
  });
}

/**
 * Parse `.npy` bytes (format versions 1.0, 2.0 and 3.0) into a float32 tensor, converting the
 * dtype per the policy above. `source` names the file in messages. Declared sizes are checked
 * against the bytes before anything is allocated. Throws `InputError('invalid-file')` naming the
 * source and what was found.
 */
export function parseNpy(bytes: Uint8Array, source = 'npy data'): Tensor {
  const fail = (why: string): never => {
    throw new InputError('invalid-file', `${source}: ${why}`);
  };
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    fail('not a .npy file (it does not start with the \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) fail('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = prefix + headerLength;
  if (start > bytes.length)
    fail(`truncated header (declares ${headerLength} header bytes, the file has ${bytes.length} in all)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(prefix, start));
  if (/['"]descr['"]\s*:\s*\[/.test(header))
    fail('dtype is structured (a record array with named fields); save one field as a plain array');
  const descr = /['"]descr['"]\s*:\s*(['"])(.*?)\1/.exec(header)?.[2];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(`cannot read the header ${JSON.stringify(header.trim())}`);
  const { decoder, little } = dtypeOf(descr!, fail);
  if (fortran === 'True')
    fail('array is in Fortran order; save a C-ordered array (np.save(path, np.ascontiguousarray(a)))');
  const shape = parseShape(shapeText!, fail);
  const count = sizeOf(shape);
  const need = count * decoder.size;
  const have = bytes.length - start;
  // Checked before allocating: a corrupt header can declare far more values than memory holds.
  if (need !== have)
    fail(
      `header declares shape [${shape.join(', ')}] of ${descr}, ${count} values × ${decoder.size} bytes = ${need} bytes, but the file holds ${have} data bytes`,
    );
  if (decoder.size === 4 && descr === '<f4' && hostLittleEndian) {
    // Copy: the data need not be 4-byte aligned in `bytes` (a Node Buffer may sit in a shared pool).
    const copy = new Uint8Array(need);
    copy.set(bytes.subarray(start, start + need));
    return { data: new Float32Array(copy.buffer), shape };
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = decoder.read(view, start + i * decoder.size, little);
  return { data, shape };
}

/**
 * Serialize a tensor as `.npy` bytes: format 1.0, `<f4`, C order, what `np.save` writes for a
 * float32 array. Throws `InputError('invalid-shape')` when data and shape disagree.
 */
export function serializeNpy(t: Tensor): Uint8Array {
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.length !== sizeOf(t.shape)) {
    throw new InputError(
      'invalid-shape',
      `cannot write .npy: shape [${t.shape.join(', ')}] needs ${sizeOf(t.shape)} values, the data has ${t.data.length}`,
    );
  }
  const dims = t.shape.length === 1 ? `${t.shape[0]},` : t.shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n' padded to a multiple of 64 bytes, as numpy does.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  if (header.length > 0xffff)
    throw new InputError('invalid-shape', `cannot write .npy: a rank-${t.shape.length} header is too long`);
  const out = new Uint8Array(10 + header.length + t.data.length * 4);
  out.set(magic, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  if (hostLittleEndian) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), start);
  else for (let i = 0; i < t.data.length; i++) view.setFloat32(start + i * 4, t.data[i], true);
  return out;
}
