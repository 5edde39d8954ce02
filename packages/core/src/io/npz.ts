import { InputError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { parseNpy, serializeNpy } from './npy.js';
import { readZip, writeZip } from './zip.js';

/**
 * Parse `.npz` bytes (what `np.savez` and `np.savez_compressed` write: a zip of `.npy` entries,
 * stored or deflated) into tensors keyed by entry name without `.npy`. Every entry is read with
 * `parseNpy`'s dtype policy. Async because deflate goes through the runtime's
 * `DecompressionStream`. Throws `InputError('invalid-file')` naming `source` and the entry; an
 * entry that is not `.npy` is refused rather than skipped, so nothing is silently left out.
 */
export async function parseNpz(bytes: Uint8Array, source = 'npz data'): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const entry of await readZip(bytes, source)) {
    if (!entry.name.endsWith('.npy')) {
      throw new InputError(
        'invalid-file',
        `${source}: entry ${JSON.stringify(entry.name)} is not a .npy array; an .npz holds only .npy entries`,
      );
    }
    out[entry.name.slice(0, -4)] = parseNpy(entry.data, `${source}: entry ${JSON.stringify(entry.name)}`);
  }
  return out;
}

/**
 * Serialize named tensors as `.npz` bytes that `np.load` reads: one stored (uncompressed)
 * `<name>.npy` entry per tensor, written by `serializeNpy`, with correct CRC-32s. Throws
 * `InputError('invalid-input')` for an empty name.
 */
export function serializeNpz(arrays: Readonly<Record<string, Tensor>>): Uint8Array {
  return writeZip(
    Object.entries(arrays).map(([name, t]) => {
      if (name === '') throw new InputError('invalid-input', 'cannot write .npz: an array has an empty name');
      return { name: `${name}.npy`, data: serializeNpy(t) };
    }),
  );
}
