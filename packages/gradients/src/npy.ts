import { InputError, type Tensor } from '@xlens/core';

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Parse a NumPy `.npy` file holding a little-endian float32 (`<f4`) array in C order. Any other
 * dtype or Fortran order is an `invalid-input` error naming what was found. `source` names the
 * file in messages.
 */
export function parseNpy(bytes: Uint8Array, source = 'npy data'): Tensor {
  const bad = (why: string): never => {
    throw new InputError('invalid-input', `${source}: ${why}`);
  };
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    bad('not a .npy file (missing the \\x93NUMPY magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength = 0;
  let start = 0;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) bad('truncated header');
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    bad(`unsupported .npy format version ${major}`);
  }
  if (start + headerLength > bytes.length) bad('truncated header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    bad(`cannot read the header ${JSON.stringify(header.trim())}`);
  if (descr !== '<f4')
    bad(`dtype is ${descr}; expected float32 (<f4), e.g. save with np.save(path, a.astype(np.float32))`);
  if (fortran === 'True') bad('array is in Fortran order; save a C-ordered array (np.ascontiguousarray)');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`cannot read the shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset !== count * 4)
    bad(`holds ${bytes.length - offset} data bytes but shape [${shape.join(', ')}] needs ${count * 4}`);
  // Copy: the data may not be 4-byte aligned in the file's buffer (a Node Buffer may share a pool).
  const copy = new Uint8Array(count * 4);
  copy.set(bytes.subarray(offset, offset + count * 4));
  const data = new Float32Array(copy.buffer);
  return { data, shape };
}

/** Read a `.npy` file from disk (Node.js only) with `parseNpy`. */
export function readNpy(path: string): Tensor {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
  if (!fs)
    throw new InputError(
      'invalid-input',
      `cannot read ${path}: reading .npy files needs Node.js; pass the baseline as a tensor instead`,
    );
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    throw new InputError('invalid-input', `cannot read baseline file ${path}: ${(error as Error).message}`);
  }
  return parseNpy(bytes, path);
}
