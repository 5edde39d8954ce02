import { UnsupportedError } from '@xlens/core';

/**
 * A tensor as ONNX Runtime returns it (the part of onnxruntime-common's `Tensor` xlens reads).
 */
export interface OrtTensor {
  /** Element type, e.g. `float32`, `int64`. */
  readonly type: string;
  readonly data: ArrayLike<number> | ArrayLike<bigint> | readonly string[];
  readonly dims: readonly number[];
  /** Number of elements. */
  readonly size: number;
}

/** Name and kind of a session output (onnxruntime-common's `InferenceSession.ValueMetadata`). */
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
}

/** Session options xlens sets (a subset of onnxruntime-common's `InferenceSession.SessionOptions`). */
export interface OrtSessionOptions {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  intraOpNumThreads?: number;
  executionProviders?: readonly string[];
  /** File ONNX Runtime writes the optimized graph to (onnxruntime-node; used by the session cache). */
  optimizedModelFilePath?: string;
  /** Session configuration entries, nested by the dots of their keys (`session.intra_op.…`). */
  extra?: Record<string, unknown>;
}

/** An inference session (the part of onnxruntime-common's `InferenceSession` xlens uses). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly outputMetadata: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>, fetches: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/**
 * The ONNX Runtime API xlens needs: session creation from model bytes and float32 tensors. Both
 * `onnxruntime-node` and `onnxruntime-web` implement onnxruntime-common's API and satisfy it, so
 * either module object can be passed as `fromOnnx(source, { runtime })`:
 *
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * const model = await fromOnnx(bytes, { runtime: ort, executionProviders: ['wasm'] });
 * ```
 */
export interface OnnxRuntime {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  /** Version strings (onnxruntime-common's `env.versions`), part of session cache keys when present. */
  readonly env?: { readonly versions?: Readonly<Record<string, string | undefined>> };
}

/** Aliases under the names onnxruntime uses, for `import type * as ort from './runtime.js'`. */
export type InferenceSession = OrtSession;
export type Tensor = OrtTensor;

/** Whether this is Node.js (or a runtime that provides its API, such as Bun or Deno). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof proc?.versions?.node === 'string';
}

// Hidden from bundlers (a variable specifier, marked ignored): a browser bundle of this package must
// not pull in onnxruntime-node's native binding. Node resolves it from this package's dependencies.
const nodeRuntimeModule = 'onnxruntime-node';
let nodeRuntime: Promise<OnnxRuntime> | undefined;

/**
 * The runtime `fromOnnx` uses when none is given: `onnxruntime-node`, imported on first use. Outside
 * Node.js there is no default, and the error says what to pass instead.
 */
export function defaultRuntime(): Promise<OnnxRuntime> {
  if (!isNode()) {
    return Promise.reject(
      new UnsupportedError(
        'unsupported',
        'fromOnnx has no default ONNX Runtime outside Node.js: pass one as options.runtime, e.g. ' +
          "import * as ort from 'onnxruntime-web'; fromOnnx(bytes, { runtime: ort })",
      ),
    );
  }
  nodeRuntime ??= (
    import(/* @vite-ignore */ /* webpackIgnore: true */ nodeRuntimeModule) as Promise<OnnxRuntime>
  ).catch((error: unknown) => {
    nodeRuntime = undefined;
    throw new UnsupportedError(
      'unsupported',
      `cannot load onnxruntime-node (${(error as Error).message}); install it, or pass another ONNX Runtime as options.runtime`,
      { cause: error },
    );
  });
  return nodeRuntime;
}

/** A runtime given by a user, checked for the members xlens calls. */
export function checkRuntime(runtime: unknown): OnnxRuntime {
  const r = runtime as Partial<OnnxRuntime> | null;
  if (
    !r ||
    typeof r !== 'object' ||
    typeof r.InferenceSession?.create !== 'function' ||
    typeof r.Tensor !== 'function'
  ) {
    throw new UnsupportedError(
      'unsupported',
      'options.runtime is not an ONNX Runtime module: it needs InferenceSession.create and Tensor ' +
        "(pass the module itself, e.g. import * as ort from 'onnxruntime-web')",
    );
  }
  return r as OnnxRuntime;
}
