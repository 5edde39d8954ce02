import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackwardRequest, Model } from '@xlens/core';
import { tinyCnn } from '@xlens/core/testing';
import * as ortNode from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeOnnxModel,
  encodeOnnxModel,
  fromOnnx,
  type OnnxRuntime,
  type OrtSessionOptions,
} from '../src/index.js';
import { sessionCache } from '../src/node/index.js';
import { tensorFloat32 } from '../src/proto/tensor-data.js';
import { toyOnnx } from '../src/testing/index.js';

/** onnxruntime-node recording the options of every session it creates. */
function recordingRuntime(): OnnxRuntime & { created: OrtSessionOptions[] } {
  const created: OrtSessionOptions[] = [];
  return {
    created,
    env: ortNode.env,
    Tensor: ortNode.Tensor,
    InferenceSession: {
      create: (bytes: Uint8Array, options?: OrtSessionOptions) => {
        created.push({ ...options });
        return ortNode.InferenceSession.create(bytes, options);
      },
    },
  };
}

const fromCache = (o: OrtSessionOptions) => o.graphOptimizationLevel === 'disabled';
const stored = (o: OrtSessionOptions) => o.optimizedModelFilePath !== undefined;

const x = { data: new Float32Array(2 * 3 * 8 * 8).map((_, i) => Math.sin(i)), shape: [2, 3, 8, 8] };
const seed = { kind: 'output' as const, cotangent: { data: new Float32Array(10).fill(1), shape: [2, 5] } };
const requests: BackwardRequest[] = [
  { input: x, seed },
  { input: x, seed, rules: { relu: 'guided' } },
];

/** Everything a method reads from a model: logits, activations and gradients under rules. */
async function outputs(model: Model) {
  const layer = model.layers!()[1].name;
  const out: Float32Array[] = [(await model.forward(x)).data];
  out.push((await model.capture!(x, [layer])).activations[layer].data);
  for (const r of requests) out.push((await model.backward!(r)).inputGradient!.data);
  return out;
}

/** Bit-identical outputs. */
function expectSame(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Array.from(actual[i])).toEqual(Array.from(expected[i]));
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xlens-cache-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The model with its first 4-D weight multiplied by `k`: same graph, other bytes and outputs. */
function scaledFirstConv(bytes: Uint8Array, k: number): Uint8Array {
  const decoded = decodeOnnxModel(bytes);
  const weight = decoded.graph.initializer.find((t) => t.dims.length === 4)!;
  weight.rawData = new Uint8Array(tensorFloat32(weight).map((v) => v * k).buffer);
  weight.floatData = undefined;
  return encodeOnnxModel(decoded);
}

/** Load, compute every output and dispose; returns the outputs and the sessions created. */
async function session(bytes: Uint8Array, dir: string | undefined, extra: { intraOpThreads?: number } = {}) {
  const runtime = recordingRuntime();
  const model = await fromOnnx(bytes, { runtime, ...(dir ? { cache: sessionCache(dir) } : {}), ...extra });
  const values = await outputs(model);
  await model.dispose();
  return { values, created: runtime.created };
}

describe('the session cache', () => {
  const bytes = toyOnnx(tinyCnn());

  it('stores every session on first use and loads them all from disk later, with identical results', async () => {
    const dir = tempDir();
    const plain = await session(bytes, undefined);
    const first = await session(bytes, dir);
    // Forward, capture and two backward configurations were stored (the probe keeps only its facts).
    expect(first.created.filter(stored)).toHaveLength(4);
    expect(first.created.some(fromCache)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ort'))).toHaveLength(4);
    const second = await session(bytes, dir);
    // No probe session, nothing rebuilt: the four sessions come from the cache.
    expect(second.created).toHaveLength(4);
    expect(second.created.every(fromCache)).toBe(true);
    // Written in ORT format, read with the weights used in place; no session spin-waits.
    const config = (o: OrtSessionOptions) => o.extra as { session: Record<string, unknown> };
    expect(first.created.filter(stored).every((o) => config(o).session.save_model_format === 'ORT')).toBe(
      true,
    );
    expect(second.created.every((o) => config(o).session.use_ort_model_bytes_directly === '1')).toBe(true);
    expect(
      [...first.created, ...second.created].every(
        (o) => (config(o).session.intra_op as Record<string, string>).allow_spinning === '0',
      ),
    ).toBe(true);
    for (const run of [first, second]) {
      expectSame(run.values, plain.values);
    }
  });

  it('keys entries by the model bytes and by the session options', async () => {
    const dir = tempDir();
    await session(bytes, dir);
    const changed = scaledFirstConv(bytes, 1.5);
    const other = await session(changed, dir);
    expect(other.created.some(fromCache)).toBe(false);
    expect(other.created.filter(stored)).toHaveLength(4);
    const plainChanged = await session(changed, undefined);
    expectSame(other.values, plainChanged.values);
    const threads = await session(bytes, dir, { intraOpThreads: 1 });
    expect(threads.created.some(fromCache)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ort'))).toHaveLength(12);
  });

  it('detects a corrupt model file or record, rebuilds the entry and gives the same results', async () => {
    const dir = tempDir();
    const plain = await session(bytes, undefined);
    await session(bytes, dir);
    // Two session entries: one model file gets a flipped bit, the other entry's record is cut short.
    const models = readdirSync(dir).filter((f) => f.endsWith('.ort'));
    const model = join(dir, models[0]);
    const damaged = readFileSync(model);
    damaged[damaged.length >> 1] ^= 0x40;
    writeFileSync(model, damaged);
    writeFileSync(join(dir, `${models[1].slice(0, -4)}.json`), '{"key": ');
    const again = await session(bytes, dir);
    // Both entries were rebuilt and stored again; the other two came from the cache.
    expect(again.created.filter(stored)).toHaveLength(2);
    expect(again.created.filter((o) => fromCache(o)).length).toBeGreaterThanOrEqual(2);
    expectSame(again.values, plain.values);
    // The rebuilt entries are whole again: a third run loads everything from the cache.
    const third = await session(bytes, dir);
    expect(third.created).toHaveLength(4);
    expect(third.created.every(fromCache)).toBe(true);
  });

  it('still runs when the optimized model cannot be written', async () => {
    const dir = tempDir();
    const plain = await session(bytes, undefined);
    const store = sessionCache(dir);
    const runtime = recordingRuntime();
    const model = await fromOnnx(bytes, {
      runtime,
      cache: { ...store, stagingPath: () => join(dir, 'missing', 'folder', 'model.ort') },
    });
    expectSame(await outputs(model), plain.values);
    await model.dispose();
    expect(runtime.created.filter(stored).length).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ort'))).toEqual([]);
  });

  it('writes nothing and asks ONNX Runtime for no optimized model when disabled', async () => {
    const dir = tempDir();
    const run = await session(bytes, undefined);
    expect(run.created.some(stored)).toBe(false);
    expect(run.created.some(fromCache)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keys a model file by its path, size and modification time', async () => {
    const dir = tempDir();
    const path = join(dir, 'model.onnx');
    writeFileSync(path, bytes);
    const cache = join(dir, 'cache');
    const load = async () => {
      const runtime = recordingRuntime();
      const model = await fromOnnx(path, { runtime, cache: sessionCache(cache) });
      const out = await model.forward(x);
      await model.dispose();
      return { created: runtime.created, out };
    };
    const first = await load();
    expect(first.created.some(fromCache)).toBe(false);
    const second = await load();
    expect(second.created).toHaveLength(1);
    expect(second.created.every(fromCache)).toBe(true);
    expect(Array.from(second.out.data)).toEqual(Array.from(first.out.data));
    // New weights in the same file (a later modification time): nothing stale is loaded.
    const changed = scaledFirstConv(bytes, 2);
    writeFileSync(path, changed);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const third = await load();
    expect(third.created.some(fromCache)).toBe(false);
    const plain = await fromOnnx(changed, { runtime: recordingRuntime() });
    expect(Array.from(third.out.data)).toEqual(Array.from((await plain.forward(x)).data));
    await plain.dispose();
  });
});
