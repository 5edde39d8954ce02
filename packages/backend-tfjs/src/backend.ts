import * as tf from '@tensorflow/tfjs';
import { OptionError, UnsupportedError } from '@xlens/core';

/** tfjs backends `initTfjsBackend` knows how to set up. */
export type TfjsBackendName = 'wasm' | 'cpu' | 'tensorflow' | 'webgl';

const names: readonly TfjsBackendName[] = ['wasm', 'cpu', 'tensorflow', 'webgl'];

/** Options of `initTfjsBackend`. */
export interface InitTfjsBackendOptions {
  /**
   * Where the wasm binaries are (a URL prefix or, in Node, a directory ending in `/`). Default in
   * Node: the installed `@tensorflow/tfjs-backend-wasm/dist/`, so no network is needed.
   */
  readonly wasmPaths?: string;
}

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function wasmDistDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

async function prepareWasm(options: InitTfjsBackendOptions): Promise<void> {
  if (tf.findBackend('wasm')) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!tf.findBackendFactory('wasm')) {
    throw new UnsupportedError(
      'unsupported',
      '@tensorflow/tfjs-backend-wasm registered itself with another copy of @tensorflow/tfjs-core than @tensorflow/tfjs uses: install matching versions so that one tfjs-core is shared',
    );
  }
  const paths = options.wasmPaths ?? (isNode() ? await wasmDistDir() : undefined);
  if (paths) wasm.setWasmPaths(paths);
}

async function prepareNode(): Promise<void> {
  if (tf.findBackendFactory('tensorflow')) return;
  // A variable specifier keeps bundlers and tsc from resolving the optional peer.
  const spec = '@tensorflow/tfjs-node';
  try {
    await import(spec);
  } catch (cause) {
    throw new UnsupportedError(
      'unsupported',
      `tfjs backend 'tensorflow' needs the optional peer ${spec}, which could not be loaded; install it, or use 'wasm' (default in Node) or 'cpu'`,
      { cause },
    );
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new UnsupportedError(
      'unsupported',
      `${spec} registered its backend with another copy of @tensorflow/tfjs-core than @tensorflow/tfjs uses: install matching versions`,
    );
  }
}

/**
 * Select and initialise a tfjs backend, returning the name of the backend in use. Without a name:
 * `wasm` in Node (loaded from the installed package, so offline works), `webgl` elsewhere, and
 * `cpu` when that fails. Asking for `tensorflow` loads the optional peer `@tensorflow/tfjs-node`
 * and throws `UnsupportedError` when it is not installed. An explicitly named backend that fails
 * to initialise throws instead of falling back.
 */
export async function initTfjsBackend(
  name?: TfjsBackendName,
  options: InitTfjsBackendOptions = {},
): Promise<string> {
  if (name !== undefined && !names.includes(name)) {
    throw new OptionError(
      'invalid-option',
      `tfjs backend ${JSON.stringify(name)} is unknown; allowed: ${names.join(', ')}`,
    );
  }
  const wanted = name ?? (isNode() ? 'wasm' : 'webgl');
  try {
    if (wanted === 'wasm') await prepareWasm(options);
    if (wanted === 'tensorflow') await prepareNode();
    if (!(await tf.setBackend(wanted)))
      throw new UnsupportedError('unsupported', `tfjs backend ${wanted} failed to initialise`);
  } catch (e) {
    if (name !== undefined) throw e;
    if (!(await tf.setBackend('cpu'))) throw e;
  }
  await tf.ready();
  return tf.getBackend();
}
