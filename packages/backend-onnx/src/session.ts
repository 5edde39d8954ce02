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
}

/** An ORT session over an encoded model; ORT's errors become `invalid-model` with the cause kept. */
export async function createSession(
  model: OnnxModel,
  options: SessionOptions,
  what: string,
  extra: OrtSessionOptions = {},
): Promise<ort.InferenceSession> {
  return createSessionFromBytes(encodeOnnxModel(model), options, what, extra);
}

/**
 * `createSession` from encoded bytes (or a model file path, for runtimes that open files); `extra` overrides xlens's session options (a cached,
 * already optimized model loads with `graphOptimizationLevel: 'disabled'`).
 */
export async function createSessionFromBytes(
  bytes: Uint8Array | string,
  options: SessionOptions,
  what: string,
  extra: OrtSessionOptions = {},
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
