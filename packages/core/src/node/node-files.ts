import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { InputError } from '../errors.js';
import type { FileSource } from '../io/files.js';
import { parseNpy, serializeNpy } from '../io/npy.js';
import { parseNpz, serializeNpz } from '../io/npz.js';
import type { Tensor } from '../tensor.js';

/** Largest file read by default: 2 GiB (also the largest a Node.js Buffer read in one go holds). */
export const maxFileBytes = 2 ** 31;

const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

function reasonOf(err: unknown): string {
  const code = (err as { code?: string }).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'too many symbolic links',
  };
  return (code && known[code]) ?? (err as Error).message;
}

/** Refuse what is not a regular file: reading a device, FIFO or socket may never end or never stop. */
function checkRegular(stats: Stats, path: string, maxBytes: number): void {
  if (!stats.isFile()) {
    const kind = stats.isDirectory()
      ? 'a directory'
      : stats.isFIFO()
        ? 'a named pipe (FIFO)'
        : stats.isCharacterDevice()
          ? 'a character device'
          : stats.isBlockDevice()
            ? 'a block device'
            : stats.isSocket()
              ? 'a socket'
              : 'not a regular file';
    throw new InputError('invalid-file', `cannot read ${path}: it is ${kind}; expected a regular file`);
  }
  if (stats.size > maxBytes) {
    throw new InputError(
      'invalid-file',
      `cannot read ${path}: it holds ${formatBytes(stats.size)}, more than the ${formatBytes(maxBytes)} limit`,
    );
  }
}

/**
 * The bytes of a regular file, read safely: directories, FIFOs, devices (`/dev/zero`) and sockets
 * are refused before opening, the size is checked against `maxBytes` before reading, and the file
 * is checked again once open (so it cannot be swapped for something else in between). Throws
 * `InputError('invalid-file')` naming the path and the reason.
 */
export function readFileChecked(path: string, maxBytes: number = maxFileBytes): Uint8Array {
  let fd: number;
  try {
    checkRegular(statSync(path), path, maxBytes);
    // O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not hang.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('invalid-file', `cannot read ${path}: ${reasonOf(err)}`);
  }
  try {
    const stats = fstatSync(fd);
    checkRegular(stats, path, maxBytes);
    const out = new Uint8Array(stats.size);
    let at = 0;
    while (at < out.length) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== out.length)
      throw new InputError('invalid-file', `cannot read ${path}: it shrank while being read`);
    return out;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('invalid-file', `cannot read ${path}: ${reasonOf(err)}`);
  } finally {
    closeSync(fd);
  }
}

/** A `FileSource` reading regular files from disk with `readFileChecked` (2 GiB limit). */
export const nodeFileReader: FileSource = { readBytes: (path) => readFileChecked(path) };

/** A float32 tensor from a `.npy` file (`parseNpy`'s dtype policy; read with `readFileChecked`). */
export function readNpyFile(path: string): Tensor {
  return parseNpy(readFileChecked(path), path);
}

/** Tensors by name from an `.npz` file (`parseNpz`; read with `readFileChecked`). */
export function readNpzFile(path: string): Promise<Record<string, Tensor>> {
  return parseNpz(readFileChecked(path), path);
}

function write(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    throw new InputError('invalid-file', `cannot write ${path}: ${reasonOf(err)}`);
  }
}

/** Write a tensor as a `.npy` file (`serializeNpy`: version 1.0, `<f4`, C order). */
export function writeNpyFile(path: string, t: Tensor): void {
  write(path, serializeNpy(t));
}

/** Write named tensors as an `.npz` file (`serializeNpz`: stored `.npy` entries). */
export function writeNpzFile(path: string, arrays: Readonly<Record<string, Tensor>>): void {
  write(path, serializeNpz(arrays));
}
