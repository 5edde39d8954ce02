import { OptionError, sizeOf, type Tensor } from '@xlens/core';

/**
 * NumPy `.npy` (format 1.0, little-endian float32, C order) and `.npz` (a zip of `.npy` members)
 * encoding, so that patterns can be read with `numpy.load`. Written from the format description,
 * stored (uncompressed) members only; reading also accepts deflated members when `inflate` is given.
 */

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** One float32 tensor as `.npy` bytes. */
export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that magic + version + length + header is a multiple of 64, ending in a newline.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.length * 4);
  out.set(magic, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < t.data.length; i++) view.setFloat32(i * 4, t.data[i], true);
  return out;
}

/** A float32 / float64 little-endian C-order `.npy` as a float32 tensor. */
export function decodeNpy(bytes: Uint8Array, name = 'npy'): Tensor {
  if (!magic.every((b, i) => bytes[i] === b))
    throw new OptionError('invalid-option', `${name} is not a .npy array`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || dims === undefined || fortran || (descr !== '<f4' && descr !== '<f8')) {
    throw new OptionError(
      'invalid-option',
      `${name}: unsupported array (${header.trim()}); expected little-endian float32 or float64 in C order`,
    );
  }
  const shape = dims
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  const count = sizeOf(shape);
  const body = start + headerLength;
  const data = new Float32Array(count);
  const step = descr === '<f4' ? 4 : 8;
  if (body + count * step > bytes.byteLength)
    throw new OptionError('invalid-option', `${name}: truncated array data`);
  for (let i = 0; i < count; i++)
    data[i] = step === 4 ? view.getFloat32(body + i * 4, true) : view.getFloat64(body + i * 8, true);
  return { data, shape };
}

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Named float32 tensors as `.npz` bytes (each stored as `<name>.npy`). */
export function encodeNpz(arrays: Readonly<Record<string, Tensor>>): Uint8Array {
  const enc = new TextEncoder();
  const entries = Object.entries(arrays).map(([name, t]) => ({
    name: enc.encode(`${name}.npy`),
    data: encodeNpy(t),
  }));
  const size = entries.reduce((s, e) => s + 30 + e.name.length + e.data.length + 46 + e.name.length, 22);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  const central: { offset: number; crc: number; name: Uint8Array; length: number }[] = [];
  for (const e of entries) {
    const crc = crc32(e.data);
    central.push({ offset: at, crc, name: e.name, length: e.data.length });
    v.setUint32(at, 0x04034b50, true);
    v.setUint16(at + 4, 20, true);
    v.setUint32(at + 14, crc, true);
    v.setUint32(at + 18, e.data.length, true);
    v.setUint32(at + 22, e.data.length, true);
    v.setUint16(at + 26, e.name.length, true);
    out.set(e.name, at + 30);
    out.set(e.data, at + 30 + e.name.length);
    at += 30 + e.name.length + e.data.length;
  }
  const dirStart = at;
  for (const c of central) {
    v.setUint32(at, 0x02014b50, true);
    v.setUint16(at + 4, 20, true);
    v.setUint16(at + 6, 20, true);
    v.setUint32(at + 16, c.crc, true);
    v.setUint32(at + 20, c.length, true);
    v.setUint32(at + 24, c.length, true);
    v.setUint16(at + 28, c.name.length, true);
    v.setUint32(at + 42, c.offset, true);
    out.set(c.name, at + 46);
    at += 46 + c.name.length;
  }
  v.setUint32(at, 0x06054b50, true);
  v.setUint16(at + 8, central.length, true);
  v.setUint16(at + 10, central.length, true);
  v.setUint32(at + 12, at - dirStart, true);
  v.setUint32(at + 16, dirStart, true);
  return out;
}

/** The `.npy` members of `.npz` bytes, by name without the extension. */
export function decodeNpz(
  bytes: Uint8Array,
  inflate?: (d: Uint8Array) => Uint8Array,
): Record<string, Tensor> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.byteLength - 22;
  while (end >= 0 && v.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new OptionError('invalid-option', 'not a .npz (zip) file');
  const count = v.getUint16(end + 10, true);
  let at = v.getUint32(end + 16, true);
  const out: Record<string, Tensor> = {};
  const dec = new TextDecoder();
  for (let i = 0; i < count; i++) {
    const method = v.getUint16(at + 10, true);
    const compressed = v.getUint32(at + 20, true);
    const nameLength = v.getUint16(at + 28, true);
    const extra = v.getUint16(at + 30, true);
    const comment = v.getUint16(at + 32, true);
    const offset = v.getUint32(at + 42, true);
    const name = dec.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extra + comment;
    const dataStart = offset + 30 + v.getUint16(offset + 26, true) + v.getUint16(offset + 28, true);
    let data = bytes.subarray(dataStart, dataStart + compressed);
    if (method === 8) {
      if (!inflate)
        throw new OptionError('invalid-option', `npz member ${name} is compressed; reading it needs Node.js`);
      data = inflate(data);
    } else if (method !== 0)
      throw new OptionError(
        'invalid-option',
        `npz member ${name} uses zip method ${method}; expected stored or deflated`,
      );
    if (name.endsWith('.npy')) out[name.slice(0, -4)] = decodeNpy(data, name);
  }
  return out;
}
