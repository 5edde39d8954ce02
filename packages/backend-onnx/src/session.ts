import { UnsupportedError } from '@xlens/core';
import { encodeOnnxModel } from './proto/codec.js';
import type { OnnxModel } from './proto/types.js';
import type * as ort from './runtime.js';
import type { OnnxRuntime, OrtSessionOptions } from './runtime.js';

/** Options for ORT sessions. */
export interface SessionOptions {
  /** The ONNX Runtime that creates sessions and tensors (onnxruntime-node, onnxruntime-web, …). */
  readonly runtime: OnnxRuntime;
  /** Threads ORT may use inside one operator (default: ORT's choice). */
  readonly intraOpThreads?: number;
  /** ORT execution providers in order of preference (default: the runtime's own). */
  readonly executionProviders?: readonly string[];
  /** Whether idle intra-op workers spin-wait (default false; see `OnnxModelOptions.spinWait`). */
  readonly spinWait?: boolean;
}

/** An ORT session over an encoded model; ORT's errors become `invalid-model` with the cause kept. */
export async function createSession(
  model: OnnxModel,
  options: SessionOptions,
  what: string,
  extra: OrtSessionOptions = {},
  config: SessionConfig = {},
): Promise<ort.InferenceSession> {
  return createSessionFromBytes(encodeOnnxModel(model), options, what, extra, config);
}

/** Session configuration entries by their dotted ORT keys, e.g. `session.save_model_format`. */
export type SessionConfig = Record<string, string>;

/** onnxruntime-common's `extra` object: the dotted keys of `config` as nested objects. */
function nestedConfig(config: SessionConfig): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return root;
}

/**
 * `createSession` from encoded bytes (or a model file path, for runtimes that open files); `extra`
 * overrides xlens's session options (a cached, already optimized model loads with
 * `graphOptimizationLevel: 'disabled'`) and `config` adds session configuration entries.
 */
export async function createSessionFromBytes(
  bytes: Uint8Array | string,
  options: SessionOptions,
  what: string,
  extra: OrtSessionOptions = {},
  config: SessionConfig = {},
): Promise<ort.InferenceSession> {
  // Errors only: ORT's warnings (e.g. about unused initializers) are not actionable for users.
  const sessionOptions: OrtSessionOptions = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
  if (options.executionProviders !== undefined)
    sessionOptions.executionProviders = [...options.executionProviders];
  Object.assign(sessionOptions, extra);
  const entries: SessionConfig = { ...config };
  if (!options.spinWait) entries['session.intra_op.allow_spinning'] = '0';
  if (Object.keys(entries).length > 0) sessionOptions.extra = nestedConfig(entries);
  try {
    // A path (from the session cache, which is Node-only) is opened by the runtime itself:
    // onnxruntime-node's create takes a path as well as bytes.
    const create = options.runtime.InferenceSession.create as (
      model: Uint8Array | string,
      options: OrtSessionOptions,
    ) => Promise<ort.InferenceSession>;
    return await create.call(options.runtime.InferenceSession, bytes, sessionOptions);
  } catch (error) {
    throw new UnsupportedError(
      'invalid-model',
      `ONNX Runtime could not load the ${what}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A float32 ORT tensor of `runtime`. */
export function floatInput(runtime: OnnxRuntime, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new runtime.Tensor('float32', data, [...dims]);
}

/** The values of an ORT result as float32 (copying when the result has another numeric type). */
export function floatOutput(t: ort.Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array)
    return Float32Array.from(d, (v) => Number(v));
  if (Array.isArray(d))
    throw new UnsupportedError('unsupported', `tensor of type ${t.type} cannot be read as numbers`);
  return Float32Array.from(d as ArrayLike<number>);
}

/** Run a session, turning ORT failures into typed errors. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  outputs: readonly string[],
): Promise<Record<string, ort.Tensor>> {
  try {
    return await session.run(feeds, [...outputs]);
  } catch (error) {
    throw new UnsupportedError(
      'unsupported',
      `ONNX Runtime failed to run the model: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export type { ort };
