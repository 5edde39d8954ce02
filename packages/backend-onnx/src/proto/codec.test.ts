import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, XlensError } from '@xlens/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { smallToySpec } from '../../test/toy-specs.js';
import { OnnxGraphBuilder } from '../builder.js';
import { readOnnxModel } from '../node/files.js';
import { toyOnnx } from '../toy-onnx.js';
import { decodeOnnxModel, encodeOnnxModel } from './codec.js';
import { tensorFloat32 } from './tensor-data.js';

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(XlensError);
    expect((error as XlensError).code).toBe('invalid-model');
    return;
  }
  throw new Error('expected an invalid-model error');
}

describe('ONNX protobuf codec', () => {
  it('round-trips a model: decode(encode(m)) re-encodes to the same bytes and ORT runs it', async () => {
    const bytes = toyOnnx(smallToySpec());
    const model = decodeOnnxModel(bytes);
    expect(model.graph.node.map((n) => n.opType)).toContain('BatchNormalization');
    expect(model.opsetImport[0].version).toBe(13);
    const again = encodeOnnxModel(model);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const session = await ort.InferenceSession.create(again);
    const x = new Float32Array(2 * 2 * 8 * 8).map((_, i) => Math.sin(i));
    const out = await session.run({ input: new ort.Tensor('float32', x, [2, 2, 8, 8]) });
    expect(out.fc2.dims).toEqual([2, 3]);
    await session.release();
  });

  it('rejects truncated and random bytes with invalid-model, never crashing', () => {
    const bytes = toyOnnx(smallToySpec());
    for (const cut of [1, 7, 100, Math.floor(bytes.length / 2), bytes.length - 3]) {
      expectInvalid(() => decodeOnnxModel(bytes.subarray(0, cut)));
    }
    const rng = createRng(5);
    for (let k = 0; k < 20; k++) {
      const noise = new Uint8Array(64 + k * 97).map(() => Math.floor(rng.uniform() * 256));
      expectInvalid(() => decodeOnnxModel(noise));
    }
    expectInvalid(() => decodeOnnxModel(new Uint8Array(0)));
    expectInvalid(() => decodeOnnxModel(new TextEncoder().encode('{"format": "layers-model"}')));
  });

  it('reads tensors stored as external data relative to the model path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlens-onnx-'));
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3]);
    const w = b.initializer('w', [1, 2, 3, 4, 5, 6], [2, 3]);
    b.output(b.node('Gemm', [x, w], { transB: 1 }, { outputs: ['y'] }));
    const model = b.build();
    const weight = model.graph.initializer[0];
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(weight.rawData!)]));
    weight.rawData = undefined;
    weight.dataLocation = 1;
    weight.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '8' },
      { key: 'length', value: '24' },
    ];
    writeFileSync(join(dir, 'model.onnx'), encodeOnnxModel(model));
    const loaded = await readOnnxModel(join(dir, 'model.onnx'));
    expect(Array.from(tensorFloat32(loaded.graph.initializer[0]))).toEqual([1, 2, 3, 4, 5, 6]);
    weight.externalData[0].value = '../escape.bin';
    writeFileSync(join(dir, 'bad.onnx'), encodeOnnxModel(model));
    await expect(readOnnxModel(join(dir, 'bad.onnx'))).rejects.toMatchObject({ code: 'invalid-model' });
  });

  it('never reads outside the model folder: links, percent-escapes and devices are refused', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'xlens-secret-'));
    writeFileSync(join(outside, 'secret.bin'), Buffer.alloc(24, 7));
    const dir = mkdtempSync(join(tmpdir(), 'xlens-onnx-'));
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3]);
    b.output(
      b.node('Gemm', [x, b.initializer('w', [1, 2, 3, 4, 5, 6], [2, 3])], { transB: 1 }, { outputs: ['y'] }),
    );
    const model = b.build();
    const weight = model.graph.initializer[0];
    weight.rawData = undefined;
    weight.dataLocation = 1;
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    symlinkSync(outside, join(dir, 'linked-folder'));
    symlinkSync('/dev/zero', join(dir, 'zero.bin'));
    const cases: readonly [string, RegExp][] = [
      ['link.bin', /outside the model folder/],
      ['linked-folder/secret.bin', /outside the model folder/],
      ['%2e%2e/secret.bin', /outside the model folder/],
      ['zero.bin', /outside the model folder/],
    ];
    for (const [location, message] of cases) {
      weight.externalData = [{ key: 'location', value: location }];
      writeFileSync(join(dir, 'model.onnx'), encodeOnnxModel(model));
      await expect(readOnnxModel(join(dir, 'model.onnx')), location).rejects.toMatchObject({
        code: 'invalid-model',
        message: expect.stringMatching(message),
      });
    }
    // A special file as the model itself is refused before anything is read.
    await expect(readOnnxModel('/dev/zero')).rejects.toThrow(
      /cannot read ONNX model \/dev\/zero: it is a character device/,
    );
  });
});
