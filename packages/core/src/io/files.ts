import { InputError, OptionError, XlensError } from '../errors.js';

/**
 * Synchronous access to the bytes of named files, for options that take a path (an IG baseline
 * `.npy`, LRP pattern and rule files). The main entry of core never touches a file system itself:
 * on Node.js pass `nodeFileReader` from `@xlens/core/node`; elsewhere `memoryFiles`, or any object
 * with this method. Implementations throw when the file cannot be read.
 */
export interface FileSource {
  /** The whole contents of the file at `path`. */
  readBytes(path: string): Uint8Array;
}

/** A `FileSource` over bytes already in memory (browsers, tests), keyed by path. */
export function memoryFiles(files: Readonly<Record<string, Uint8Array>>): FileSource {
  return {
    readBytes(path) {
      const bytes = Object.hasOwn(files, path) ? files[path] : undefined;
      if (!bytes) {
        const known = Object.keys(files);
        throw new InputError(
          'invalid-file',
          `cannot read ${path}: no such file among the ${known.length} in memory${known.length > 0 ? ` (${known.slice(0, 5).join(', ')}${known.length > 5 ? ', ...' : ''})` : ''}`,
        );
      }
      return bytes;
    },
  };
}

/**
 * The bytes of `path` through `files`, where `what` says what the file is for (`baseline file`).
 * Without a `FileSource` this is an `OptionError('invalid-option')` saying how to pass one; a
 * failed read is an `InputError('invalid-file')` naming `what` and the reason.
 */
export function readFileBytes(files: FileSource | undefined, path: string, what: string): Uint8Array {
  if (!files) {
    throw new OptionError(
      'invalid-option',
      `${what} ${JSON.stringify(path)} is a path, and reading files needs a FileSource: pass the run option files (on Node.js: import { nodeFileReader } from '@xlens/core/node' and pass { files: nodeFileReader }; elsewhere memoryFiles({ [path]: bytes })), or pass the data itself`,
    );
  }
  try {
    return files.readBytes(path);
  } catch (err) {
    const reason = (err as Error)?.message ?? String(err);
    throw new InputError(
      'invalid-file',
      err instanceof XlensError ? `${what}: ${reason}` : `${what}: cannot read ${path} (${reason})`,
    );
  }
}
