import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomizeLayers, type Tensor, XlensError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { checkGradient, normals } from '../test/op-check.js';
import { smallToySpec } from '../test/toy-specs.js';
import { OnnxGraphBuilder } from './builder.js';
import { fromOnnx } from './onnx-model.js';
import { encodeOnnxModel } from './proto/codec.js';
import { toyOnnx } from './toy-onnx.js';

async function expectCode(promise: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(XlensError);
    expect((error as XlensError).code).toBe(code);
    if (text) expect((error as Error).message).toMatch(text);
    return;
  }
  throw new Error(`expected an ${code} error`);
}

function sinModel(): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', ['N', 2, 4, 4]);
  const c = b.node(
    'Conv',
    [x, b.initializer('w', normals(3 * 2 * 9, 1), [3, 2, 3, 3])],
    {},
    { outputs: ['conv'] },
  );
  const s = b.node('Sin', [c], {}, { name: 'wavy', outputs: ['wavy'] });
  b.output(b.node('Flatten', [b.node('GlobalAveragePool', [s])], {}, { outputs: ['y'] }));
  return encodeOnnxModel(b.build());
}

const batch = (n: number, shape: readonly number[], seed = 1): Tensor => ({
  data: normals(n * shape.reduce((a, c) => a * c, 1), seed),
  shape: [n, ...shape],
});

describe('fromOnnx', () => {
  it('names an op without a backward rule on the gradient path; forward and captures still work', async () => {
    const model = await fromOnnx(sinModel());
    const x = batch(2, model.info.inputShape);
    const out = await model.forward(x);
    expect(out.shape).toEqual([2, 3]);
    const cap = await model.capture!(x, ['wavy']);
    expect(cap.activations.wavy.shape).toEqual([2, 3, 2, 2]);
    const seed = { kind: 'output' as const, cotangent: { data: new Float32Array(6).fill(1), shape: [2, 3] } };
    await expectCode(model.backward!({ input: x, seed }), 'unsupported-op', /op Sin \(node wavy\)/);
    // A seed below the unsupported op does not cross it.
    const below = await model.backward!({
      input: x,
      seed: { kind: 'layer', layer: 'conv', cotangent: batch(2, [3, 2, 2]) },
    });
    expect(below.inputGradient!.shape).toEqual([2, 2, 4, 4]);
    await model.dispose();
  });

  it('rejects corrupt and truncated files with invalid-model, by path and by bytes', async () => {
    const bytes = toyOnnx(smallToySpec());
    const dir = mkdtempSync(join(tmpdir(), 'xlens-onnx-'));
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, bytes.length - 40));
    await expectCode(fromOnnx(join(dir, 'cut.onnx')), 'invalid-model', /truncated|corrupt|not a valid/);
    await expectCode(fromOnnx(join(dir, 'missing.onnx')), 'invalid-model', /cannot read/);
    await expectCode(fromOnnx(new Uint8Array([8, 7, 18, 4, 1, 2, 3])), 'invalid-model');
  });

  it('lists fused toy layers as the spec does and captures the hidden pre-activation by name', async () => {
    const model = await fromOnnx(toyOnnx(smallToySpec()));
    const conv1 = model.layers!().find((l) => l.name === 'conv1')!;
    expect(conv1).toMatchObject({
      kind: 'conv',
      op: 'Conv',
      activation: 'relu',
      outputShape: [4, 8, 8],
      hasBias: true,
    });
    expect(model.layers!().some((l) => l.name === 'conv1/linear')).toBe(false);
    const x = batch(1, model.info.inputShape);
    const cap = await model.capture!(x, ['conv1/linear', 'conv1']);
    const pre = cap.activations['conv1/linear'].data;
    expect(Array.from(cap.activations.conv1.data)).toEqual(Array.from(pre, (v) => Math.max(v, 0)));
    await expectCode(model.capture!(x, ['nope']), 'unknown-layer');
    await model.dispose();
    await expectCode(model.forward(x), 'disposed');
  });

  it('explains an NHWC model with a Transpose at its input (a zoo copy of a Keras model)', async () => {
    const build = (b: OnnxGraphBuilder, x: string) => {
      const t = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
      const c = b.node('Conv', [t, b.initializer('w', normals(4 * 3 * 9, 2, 0.4), [4, 3, 3, 3])], {
        pads: [1, 1, 1, 1],
      });
      return b.node('Gemm', [
        b.node('Flatten', [b.node('GlobalAveragePool', [b.node('Tanh', [c])])]),
        b.initializer('d', normals(8, 3), [4, 2]),
      ]);
    };
    await checkGradient(build, [5, 6, 3]);
    const b = new OnnxGraphBuilder();
    b.output(build(b, b.input('x', ['N', 5, 6, 3])));
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    expect(model.info.layout).toBe('NHWC');
    expect(model.layers!()[0].outputShape).toEqual([3, 5, 6]);
    await model.dispose();
  });

  it('runs a model whose batch is pinned to 1 item by item', async () => {
    const b = new OnnxGraphBuilder({ opset: 13 });
    const x = b.input('x', [1, 2, 3, 3]);
    const c = b.node('Conv', [x, b.initializer('w', normals(2 * 2 * 9, 4), [2, 2, 3, 3])], {
      pads: [1, 1, 1, 1],
    });
    const r = b.node('Reshape', [b.node('Tanh', [c]), b.int64('shape', [1, 18])]);
    b.output(
      b.node('Gemm', [r, b.initializer('d', normals(36, 5), [18, 2])], {}, { outputs: ['y'] }),
      [1, 2],
    );
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    const x3 = batch(3, [2, 3, 3], 6);
    const all = await model.forward(x3);
    const one = await model.forward({ data: x3.data.slice(18, 36), shape: [1, 2, 3, 3] });
    expect(Array.from(all.data.slice(2, 4))).toEqual(Array.from(one.data));
    const g = await model.backward!({
      input: x3,
      seed: { kind: 'output', cotangent: { data: new Float32Array(6).fill(1), shape: [3, 2] } },
    });
    expect(g.inputGradient!.shape).toEqual([3, 2, 3, 3]);
    await model.dispose();
  });

  it('derive hands weights over in canonical layout (Gemm transB = 0, MatMul) and leaves the original unchanged', async () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['N', 3]);
    const h = b.node('Gemm', [x, b.initializer('w1', [1, 2, 3, 4, 5, 6], [3, 2])], {}, { outputs: ['h'] });
    b.output(b.node('MatMul', [h, b.initializer('w2', [1, 0, 0, 1, 1, 1], [2, 3])], {}, { outputs: ['y'] }));
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    const seen: Record<string, number[][]> = {};
    const derived = await model.derive!((p) => {
      seen[p.layer] = [[...p.shape], Array.from(p.values)];
      return p.layer === 'h' ? p.values.map((v) => -v) : undefined;
    });
    expect(seen.h).toEqual([
      [2, 3],
      [1, 3, 5, 2, 4, 6],
    ]);
    expect(seen.y).toEqual([
      [3, 2],
      [1, 1, 0, 1, 0, 1],
    ]);
    const input = { data: Float32Array.from([1, 1, 1]), shape: [1, 3] };
    const before = await model.forward(input);
    const after = await derived.forward(input);
    expect(Array.from(after.data)).toEqual(Array.from(before.data, (v) => -v));
    const randomized = await model.derive!(randomizeLayers(['h'], 1));
    expect(Array.from((await randomized.forward(input)).data)).not.toEqual(Array.from(before.data));
    expect(Array.from((await model.forward(input)).data)).toEqual(Array.from(before.data));
    await Promise.all([model.dispose(), derived.dispose(), randomized.dispose()]);
  });

  it('ReLU6 (Clip 0..6) rules, hand-computed: closed above 6 for gradient and guided, open for deconvnet, passes relevance', async () => {
    // x (2) → Gemm W1 = [[1, −1], [2, 1]], b1 = [0, 0.5] → Clip(0, 6) → Gemm w2 = [1, −2] → 1 output.
    const b = new OnnxGraphBuilder({ opset: 13 });
    const x = b.input('x', ['N', 2]);
    const z = b.node('Gemm', [
      x,
      b.initializer('w1', Float32Array.of(1, -1, 2, 1), [2, 2]),
      b.initializer('b1', Float32Array.of(0, 0.5), [2]),
    ]);
    const h = b.node('Clip', [z, b.initializer('lo', [0], []), b.initializer('hi', [6], [])]);
    b.output(
      b.node('Gemm', [h, b.initializer('w2', Float32Array.of(1, -2), [2, 1])], {}, { outputs: ['y'] }),
    );
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    // x = (3, 3): z = (9, 0.5), y = (6, 0.5); the cotangent at y is (1, −2).
    const input = { data: Float32Array.of(3, 3), shape: [1, 2] };
    const seed = { kind: 'output' as const, cotangent: { data: Float32Array.of(1), shape: [1, 1] } };
    const run = async (relu?: 'guided' | 'deconvnet' | 'pass') =>
      Array.from(
        (await model.backward!({ input, seed, rules: relu ? { relu } : undefined })).inputGradient!.data,
      );
    const close = (got: number[], want: number[]) => {
      for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i], 5);
    };
    close(await run(), [2, -2]);
    close(await run('guided'), [0, 0]);
    close(await run('deconvnet'), [1, 2]);
    // pass: y/z = (6/9, 1), so the cotangent at z is (2/3, −2) and W1 maps it to (8/3, −2/3).
    close(await run('pass'), [8 / 3, -2 / 3]);
    await model.dispose();
  });

  it('checks rules before any compute: unknown relu rule, linear rule on a non-linear layer, missing reference', async () => {
    const model = await fromOnnx(toyOnnx(smallToySpec()));
    const input = batch(1, model.info.inputShape);
    const seed = {
      kind: 'output' as const,
      cotangent: { data: Float32Array.from([1, 0, 0]), shape: [1, 3] },
    };
    await expectCode(
      model.backward!({ input, seed, rules: { relu: 'nope' as never } }),
      'unsupported-rule',
      /guided/,
    );
    await expectCode(
      model.backward!({ input, seed, rules: { linear: { pool1: { kind: 'z-plus' } } } }),
      'unsupported-rule',
      /conv1/,
    );
    await expectCode(
      model.backward!({ input, seed, rules: { linear: { conv2: { kind: 'flat' } } } }),
      'unsupported-rule',
      /fed directly/,
    );
    await expectCode(
      model.backward!({ input, seed, rules: { relu: 'rescale' } }),
      'invalid-input',
      /reference/,
    );
    await expectCode(
      model.backward!({
        input,
        seed: { kind: 'output', cotangent: { data: new Float32Array(2), shape: [1, 2] } },
      }),
      'invalid-shape',
    );
    await model.dispose();
  });
});

describe('fromOnnx: softmax heads (ADR 0007)', () => {
  /** x (N×4) → Gemm 4→3 → Softmax or LogSoftmax → Identity. */
  function headModel(op: 'Softmax' | 'LogSoftmax', opset = 13): Uint8Array {
    const b = new OnnxGraphBuilder({ opset });
    const x = b.input('x', ['N', 4]);
    const z = b.node(
      'Gemm',
      [x, b.initializer('w', normals(12, 3), [3, 4]), b.initializer('b', normals(3, 4), [3])],
      { transB: 1 },
      { outputs: ['logits'] },
    );
    const p = b.node(op, [z], opset < 13 ? {} : { axis: -1 }, { name: 'head', outputs: ['probs'] });
    b.output(b.node('Identity', [p], {}, { outputs: ['y'] }), ['N', 3]);
    return encodeOnnxModel(b.build());
  }

  it('removes a softmax head by default, records it, and keeps it when asked', async () => {
    const x = batch(2, [4], 5);
    for (const opset of [11, 13]) {
      const stripped = await fromOnnx(headModel('Softmax', opset));
      const kept = await fromOnnx(headModel('Softmax', opset), { stripSoftmax: false });
      expect(stripped.info.outputKind).toBe('logits');
      expect(stripped.info.outputActivation).toEqual({ kind: 'softmax', layer: 'probs', removed: true });
      expect(kept.info.outputKind).toBe('probabilities');
      expect(kept.info.outputActivation).toEqual({ kind: 'softmax', layer: 'probs', removed: false });
      const [z, p] = [await stripped.forward(x), await kept.forward(x)];
      const logits = await stripped.capture!(x, ['logits']);
      expect(Array.from(z.data)).toEqual(Array.from(logits.activations.logits.data));
      for (let i = 0; i < 2; i++) {
        const row = Array.from(z.data.subarray(i * 3, i * 3 + 3)).map(Math.exp);
        const s = row.reduce((a, v) => a + v, 0);
        row.forEach((v, j) => {
          expect(p.data[i * 3 + j]).toBeCloseTo(v / s, 5);
        });
      }
      await stripped.dispose();
      await kept.dispose();
    }
    const logSoftmax = await fromOnnx(headModel('LogSoftmax'));
    expect(logSoftmax.info).toMatchObject({
      outputKind: 'logits',
      outputActivation: { kind: 'log-softmax', removed: true },
    });
    await logSoftmax.dispose();
  });
});
