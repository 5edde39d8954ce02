import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Packages whose versions a result records: everything that shapes a map. */
const recorded = [
  '@xlens/cli',
  '@xlens/core',
  '@xlens/gradients',
  '@xlens/cam',
  '@xlens/relevance',
  '@xlens/eval',
  '@xlens/backend-tfjs',
  '@xlens/backend-onnx',
  '@xlens/viz',
  '@xlens/zoo',
  '@tensorflow/tfjs',
] as const;

/**
 * The versions of the packages that produced a result, and of Node.js, for `results.json` and the
 * report. A package that cannot be resolved is left out rather than guessed.
 */
export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const name of recorded) {
    try {
      const path = name === '@xlens/cli' ? '../package.json' : `${name}/package.json`;
      out[name] = (require(path) as { version: string }).version;
    } catch {
      // Not installed (an optional backend): nothing to record.
    }
  }
  return out;
}
