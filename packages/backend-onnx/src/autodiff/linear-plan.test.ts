import { type LinearRule, type Tensor, UnsupportedError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { normals } from '../../test/op-check.js';
import { OnnxGraphBuilder } from '../builder.js';
import { fromOnnx } from '../onnx-model.js';
import { encodeOnnxModel } from '../proto/codec.js';
import { floatTensor } from '../proto/tensor-data.js';
import { DataType } from '../proto/types.js';

const convWeight = normals(4 * 2 * 9, 1, 0.5);
const convBias = normals(4, 2, 0.1);
const bnScale = normals(4, 3, 0.2).map((v) => 1 + v);
const bnShift = normals(4, 4, 0.1);
const bnMean = normals(4, 5, 0.1);
const bnVar = normals(4, 6, 0.2).map((v) => 0.5 + v * v);
const denseWeight = normals(3 * 4, 7, 0.5); // [out 3, in 4]
const denseBias = normals(3, 8, 0.1);

/** [in, out] from [out, in]. */
function transposed(w: Float32Array, out: number, inp: number): Float32Array {
  return Float32Array.from({ length: w.length }, (_, k) => w[(k % out) * inp + Math.floor(k / out)]);
}

/**
 * Conv → BatchNorm → ReLU → global pool → Gemm. `chained`: every parameter reaches its node
 * through an input-independent chain (`Reshape` of a `Cast` of a double `Constant`, `Mul`,
 * `Identity`, `Transpose`), as exporters write them; otherwise as plain initializers. The two
 * graphs compute the same function.
 */
function convNet(chained: boolean): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', ['N', 2, 5, 5]);
  const id = (t: string) => b.node('Identity', [t]);
  let w: string;
  let bias: string;
  let params: string[];
  let dw: string;
  let db: string;
  if (chained) {
    const double = b.node('Constant', [], {
      value: { name: 'w64', dataType: DataType.DOUBLE, dims: [72], doubleData: Array.from(convWeight) },
    });
    w = b.node('Reshape', [b.node('Cast', [double], { to: DataType.FLOAT }), b.int64('shape', [4, 2, 3, 3])]);
    bias = b.node('Mul', [
      b.initializer(
        'half_bias',
        convBias.map((v) => v / 2),
        [4],
      ),
      b.initializer('two', [2], []),
    ]);
    params = [bnScale, bnShift, bnMean, bnVar].map((v, i) => id(b.initializer(`bn${i}`, v, [4])));
    dw = b.node('Transpose', [id(b.initializer('dense_w', denseWeight, [3, 4]))], { perm: [1, 0] });
    db = id(b.node('Constant', [], { value: floatTensor('dense_b', denseBias, [3]) }));
  } else {
    w = b.initializer('w', convWeight, [4, 2, 3, 3]);
    bias = b.initializer('b', convBias, [4]);
    params = [bnScale, bnShift, bnMean, bnVar].map((v, i) => b.initializer(`bn${i}`, v, [4]));
    dw = b.initializer('dense_w', transposed(denseWeight, 3, 4), [4, 3]);
    db = b.initializer('dense_b', denseBias, [3]);
  }
  const c = b.node('Conv', [x, w, bias], { pads: [1, 1, 1, 1] }, { outputs: ['conv'] });
  const bn = b.node('BatchNormalization', [c, ...params], { epsilon: 1e-3 }, { outputs: ['bn'] });
  const pooled = b.node('Flatten', [
    b.node('GlobalAveragePool', [b.node('Relu', [bn], {}, { outputs: ['relu'] })]),
  ]);
  b.output(b.node('Gemm', [pooled, dw, db], {}, { outputs: ['dense'] }));
  return encodeOnnxModel(b.build());
}

const input: Tensor = { data: normals(2 * 50, 9), shape: [2, 2, 5, 5] };
const seed = { kind: 'output' as const, cotangent: { data: normals(6, 10), shape: [2, 3] } };

describe('linear rules on weights reached through constant chains', () => {
  const rules: Array<[string, LinearRule]> = [
    ['epsilon', { kind: 'epsilon', epsilon: 0.01 }],
    ['gamma', { kind: 'gamma', gamma: 0.25 }],
    ['gamma-classic', { kind: 'gamma-classic', gamma: 0.25 }],
    ['alpha-beta', { kind: 'alpha-beta', alpha: 2, beta: 1 }],
    ['z-plus', { kind: 'z-plus' }],
    ['z-box', { kind: 'z-box', low: -3, high: 3 }],
    ['w-square', { kind: 'w-square' }],
    ['flat', { kind: 'flat' }],
    ['pattern', { kind: 'pattern', weight: { data: normals(72, 11), shape: [4, 2, 3, 3] } }],
  ];

  it.each(rules)(
    '%s gives the same relevance as on plain initializers, BatchNorm folded',
    async (_, rule) => {
      const chained = await fromOnnx(convNet(true));
      const plain = await fromOnnx(convNet(false));
      try {
        expect(chained.layers!().find((l) => l.name === 'conv')).toMatchObject({
          hasWeights: true,
          hasBias: true,
        });
        expect(chained.layers!().find((l) => l.name === 'dense')).toMatchObject({
          hasWeights: true,
          hasBias: true,
        });
        const linear = { conv: rule, dense: { kind: 'epsilon', epsilon: 0.01 } as const };
        const request = { input, seed, relevance: true, rules: { linear, foldBatchNorm: true } };
        const got = (await chained.backward!(request)).inputRelevance!.data;
        const want = (await plain.backward!(request)).inputRelevance!.data;
        const scale = Math.max(...Array.from(want, Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * scale);
      } finally {
        await Promise.all([chained.dispose(), plain.dispose()]);
      }
    },
  );

  it('refuses an input-dependent weight, saying where it comes from and listing only the layers it accepts', async () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', ['N', 2, 4, 4]);
    // A weight computed from the batch: the mean input item, reshaped to [4, 2, 2, 2].
    const mean = b.node('ReduceMean', [x], { axes: [0], keepdims: 1 });
    const dynamic = b.node(
      'Reshape',
      [mean, b.int64('shape', [4, 2, 2, 2])],
      {},
      { name: 'make_weight', outputs: ['w_dyn'] },
    );
    const fixed = b.node(
      'Conv',
      [x, b.initializer('w', normals(4 * 2 * 4, 12), [4, 2, 2, 2])],
      {},
      { outputs: ['fixed'] },
    );
    const moving = b.node('Conv', [x, dynamic], {}, { outputs: ['moving'] });
    const sum = b.node('Add', [fixed, moving]);
    b.output(b.node('Flatten', [b.node('GlobalAveragePool', [sum])], {}, { outputs: ['y'] }));
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    try {
      const request = {
        input: { data: normals(32, 13), shape: [1, 2, 4, 4] },
        seed: {
          kind: 'output' as const,
          cotangent: { data: Float32Array.from([1, 0, 0, 0]), shape: [1, 4] },
        },
        rules: { linear: { moving: { kind: 'epsilon', epsilon: 0 } as const } },
      };
      const error = await model.backward!(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedError);
      expect((error as UnsupportedError).code).toBe('unsupported-rule');
      const message = (error as Error).message;
      expect(message).toContain(
        'linear rule on layer moving, a Conv node, cannot apply: its weight input w_dyn comes from node make_weight (op Reshape), which depends on the model input',
      );
      const accepted = message.split("this model's: ")[1];
      expect(accepted).toBe('fixed');
      expect(model.layers!().find((l) => l.name === 'moving')?.hasWeights).toBe(false);
    } finally {
      await model.dispose();
    }
  });
});
