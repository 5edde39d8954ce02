import { OptionError } from '@xlens/core';

/** The parts of `node:fs` this package uses. */
export interface NodeFs {
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string | Uint8Array): void;
}

/**
 * `node:fs` when running on Node.js (found at run time, so the package still loads in browsers),
 * or an `invalid-option` error saying that `what` needs Node.js.
 */
export function nodeFs(what: string): NodeFs {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (!fs)
    throw new OptionError(
      'invalid-option',
      `${what} needs Node.js file access; pass the data as an object instead`,
    );
  return fs;
}

/** `node:zlib`'s raw inflate on Node.js, or undefined. */
export function nodeInflateRaw(): ((data: Uint8Array) => Uint8Array) | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as
    | { inflateRawSync(data: Uint8Array): Uint8Array }
    | undefined;
  return zlib ? (d) => zlib.inflateRawSync(d) : undefined;
}
