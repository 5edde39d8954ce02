import { InputError, type Tensor } from '@xlens/core';

const MAGIC = '\x93NUMPY';

/** Bytes of a NumPy `.npy` file (format 1.0) holding a little-endian float32 array in C order. */
export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.length * 4);
  for (let i = 0; i < 6; i++) out[i] = MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < t.data.length; i++) body.setFloat32(i * 4, t.data[i], true);
  return out;
}

/**
 * Parse `.npy` bytes (format 1.x–3.x). Only little-endian float32 (`<f4`) in C order is accepted;
 * anything else is an `invalid-input` error that names the dtype found. `source` names the file.
 */
export function decodeNpy(bytes: Uint8Array, source = 'the .npy data'): Tensor {
  const fail = (why: string): never => {
    throw new InputError('invalid-input', `${source}: ${why}`);
  };
  const head = String.fromCharCode(...bytes.subarray(0, 6));
  if (bytes.length < 10 || head !== MAGIC) fail('not a NumPy .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`unsupported .npy version ${major}`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes + headerLength;
  if (start > bytes.length) fail('truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(8 + lengthBytes, start),
  );
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    fail(`unreadable header ${JSON.stringify(header.trim())}`);
  if (descr !== '<f4' && descr !== '|f4')
    fail(`dtype is ${descr}, expected float32 (<f4); convert with a.astype(np.float32)`);
  if (fortran === 'True') fail('array is in Fortran order; save np.ascontiguousarray(a)');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`unreadable shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== count * 4) {
    fail(`has ${bytes.length - start} data bytes but shape [${shape.join(', ')}] needs ${count * 4}`);
  }
  const data = new Float32Array(count);
  const body = new DataView(bytes.buffer, bytes.byteOffset + start, count * 4);
  for (let i = 0; i < count; i++) data[i] = body.getFloat32(i * 4, true);
  return { data, shape };
}
