import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';

/**
 * The real path of `location`, a file a model names relative to its own folder (ONNX external
 * data, tfjs weight shards), refused unless it lies inside `folder` once symbolic links, `..`
 * and percent-escapes are resolved: a model file must not make xlens read `/etc/passwd`.
 * Throws `InputError('invalid-file')` naming `what`.
 */
export function realPathInside(folder: string, location: string, what: string): string {
  let decoded = location;
  try {
    decoded = decodeURIComponent(location);
  } catch {
    // Not percent-encoded: use it as it is.
  }
  const outside = (): InputError =>
    new InputError('invalid-file', `${what} ${location} is outside the model folder ${folder}`);
  const escapes = (base: string, path: string): boolean => {
    const rel = relative(base, path);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel);
  };
  for (const candidate of new Set([location, decoded]))
    if (escapes(resolve(folder), resolve(folder, candidate))) throw outside();
  let real: string;
  let realFolder: string;
  try {
    realFolder = realpathSync(folder);
    real = realpathSync(resolve(folder, location));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new InputError(
      'invalid-file',
      `cannot read ${what} ${location}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  if (escapes(realFolder, real)) throw outside();
  return real;
}
