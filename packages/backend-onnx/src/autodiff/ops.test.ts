import { describe, it } from 'vitest';
import { checkGradient, normals } from '../../test/op-check.js';
import { floatAttr } from '../builder.js';
import { floatTensor } from '../proto/tensor-data.js';

const w = (
  b: Parameters<Parameters<typeof checkGradient>[0]>[0],
  name: string,
  dims: number[],
  seed: number,
  scale = 0.5,
) =>
  b.initializer(
    name,
    normals(
      dims.reduce((a, c) => a * c, 1),
      seed,
      scale,
    ),
    dims,
  );

describe('linear ops: gradients equal finite differences', () => {
  it('Conv with stride 2, asymmetric pads, dilation and groups (ConvTranspose + output_padding)', async () => {
    await checkGradient(
      (b, x) =>
        b.node('Conv', [x, w(b, 'w', [4, 2, 3, 3], 2)], {
          strides: [2, 2],
          pads: [0, 1, 1, 0],
          dilations: [1, 2],
          group: 2,
        }),
      [4, 7, 8],
    );
  });
  it('Conv with auto_pad SAME_UPPER, stride 2', async () => {
    await checkGradient(
      (b, x) =>
        b.node('Conv', [x, w(b, 'w', [3, 2, 3, 3], 3), w(b, 'b', [3], 4)], {
          strides: [2, 2],
          auto_pad: 'SAME_UPPER',
        }),
      [2, 6, 5],
    );
  });
  it('stride-1 Conv with dilation, groups and asymmetric pads (rotated-kernel Conv)', async () => {
    await checkGradient(
      (b, x) =>
        b.node('Conv', [x, w(b, 'w', [6, 2, 3, 2], 20)], { pads: [2, 0, 1, 1], dilations: [2, 1], group: 2 }),
      [4, 6, 5],
    );
  });
  it('depthwise Conv', async () => {
    await checkGradient(
      (b, x) => b.node('Conv', [x, w(b, 'w', [3, 1, 3, 3], 5)], { pads: [1, 1, 1, 1], group: 3 }),
      [3, 4, 4],
    );
  });
  it('ConvTranspose with stride, output_padding and groups', async () => {
    await checkGradient(
      (b, x) =>
        b.node('ConvTranspose', [x, w(b, 'w', [4, 2, 3, 3], 6)], {
          strides: [2, 2],
          pads: [1, 1, 1, 1],
          output_padding: [1, 0],
          group: 2,
        }),
      [4, 3, 3],
    );
  });
  it('Gemm with transB = 0, alpha, beta and a broadcast C', async () => {
    await checkGradient(
      (b, x) => b.node('Gemm', [x, w(b, 'w', [5, 3], 7), w(b, 'c', [1, 3], 8)], { alpha: 0.7, beta: 2 }),
      [5],
    );
  });
  it('MatMul with batch broadcasting and both operands depending on the input', async () => {
    await checkGradient(
      (b, x) => {
        const a = b.node('MatMul', [x, w(b, 'w', [4, 3], 9)]);
        const t = b.node('Transpose', [a], { perm: [0, 2, 1] });
        return b.node('MatMul', [a, t]);
      },
      [2, 4],
    );
  });
  it('MatMul with a 1-D right operand', async () => {
    await checkGradient((b, x) => b.node('MatMul', [x, w(b, 'v', [4], 10)]), [3, 4]);
  });
});

describe('element-wise ops', () => {
  const unary: Array<[string, Record<string, number>]> = [
    ['LeakyRelu', { alpha: 0.1 }],
    ['Elu', { alpha: 0.8 }],
    ['Selu', {}],
    ['Sigmoid', {}],
    ['Tanh', {}],
    ['HardSigmoid', { alpha: 0.3 }],
    ['HardSwish', {}],
    ['Softplus', {}],
    ['Softsign', {}],
    ['Erf', {}],
    ['Neg', {}],
    ['Abs', {}],
    ['Exp', {}],
    ['Relu', {}],
  ];
  for (const [op, attrs] of unary) {
    it(op, async () => {
      await checkGradient((b, x) => b.node(op, [x], attrs), [2, 3, 3], { input: normals(18, 3, 2) });
    });
  }
  it('Gelu (exact and tanh)', async () => {
    await checkGradient(
      (b, x) => b.node('Add', [b.node('Gelu', [x]), b.node('Gelu', [x], { approximate: 'tanh' })]),
      [6],
      { opset: 20 },
    );
  });
  it('Log, Sqrt, Reciprocal and Pow on positive values', async () => {
    await checkGradient(
      (b, x) => {
        const p = b.node('Add', [b.node('Mul', [x, x]), b.initializer('one', [1], [])]);
        const s = b.node('Add', [b.node('Log', [p]), b.node('Sqrt', [p])]);
        return b.node('Add', [
          s,
          b.node('Add', [b.node('Reciprocal', [p]), b.node('Pow', [p, b.initializer('e', [1.5], [])])]),
        ]);
      },
      [5],
    );
  });
  it('PRelu with a per-channel slope and Clip with min and max', async () => {
    await checkGradient(
      (b, x) => {
        const p = b.node('PRelu', [x, w(b, 's', [2, 1, 1], 11)]);
        return b.node('Clip', [p, b.initializer('lo', [-0.5], []), b.initializer('hi', [0.8], [])]);
      },
      [2, 3, 3],
    );
  });
  it('broadcasting Add, Sub, Mul, Div (squeeze-and-excitation shape)', async () => {
    await checkGradient(
      (b, x) => {
        const gate = b.node('Sigmoid', [b.node('GlobalAveragePool', [x])]);
        const scaled = b.node('Mul', [x, gate]);
        const shifted = b.node('Sub', [scaled, w(b, 'c', [2, 1, 1], 12)]);
        const pos = b.node('Add', [b.node('Mul', [gate, gate]), b.initializer('one', [1], [])]);
        return b.node('Div', [b.node('Add', [shifted, w(b, 'd', [3], 13)]), pos]);
      },
      [2, 3, 3],
    );
  });
  it('Sum, Mean, Max, Min and Where', async () => {
    await checkGradient(
      (b, x) => {
        const t = b.node('Tanh', [x]);
        const s = b.node('Sum', [x, t, w(b, 'c', [4], 14)]);
        const m = b.node('Mean', [x, t]);
        const mx = b.node('Max', [x, t, w(b, 'd', [4], 15)]);
        const mn = b.node('Min', [x, b.node('Neg', [t])]);
        const cond = b.node('Greater', [x, b.initializer('zero', [0], [])]);
        return b.node('Sum', [s, m, mx, b.node('Where', [cond, mn, t])]);
      },
      [4],
      { input: Float32Array.from([0.7, -1.3, 0.4, -0.2]) },
    );
  });
  it('Softmax and LogSoftmax over an inner axis', async () => {
    await checkGradient(
      (b, x) => b.node('Add', [b.node('Softmax', [x], { axis: 1 }), b.node('LogSoftmax', [x], { axis: 2 })]),
      [3, 4],
    );
  });
  it('Softmax of opset 11 on a 4-D input (coerced to 2-D, rewritten when the opset is raised)', async () => {
    await checkGradient((b, x) => b.node('Softmax', [x], { axis: 1 }), [2, 2, 2], { opset: 11 });
  });
});

describe('pooling, reductions, normalization', () => {
  it('overlapping MaxPool with padding and ceil_mode (indices + ScatterElements add)', async () => {
    await checkGradient(
      (b, x) =>
        b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
      [2, 6, 6],
    );
  });
  it('MaxPool whose windows tile the input (element-wise, no scatter), 2-D and 1-D', async () => {
    await checkGradient(
      (b, x) => b.node('MaxPool', [x], { kernel_shape: [2, 3], strides: [2, 3] }),
      [3, 4, 6],
    );
    await checkGradient((b, x) => b.node('MaxPool', [x], { kernel_shape: [2], strides: [2] }), [2, 8]);
  });
  it('AveragePool without padding counted, ceil_mode, strides', async () => {
    await checkGradient(
      (b, x) =>
        b.node('AveragePool', [x], {
          kernel_shape: [3, 2],
          strides: [2, 2],
          pads: [1, 0, 1, 1],
          ceil_mode: 1,
          count_include_pad: 0,
        }),
      [2, 6, 5],
    );
  });
  it('AveragePool counting padding, auto_pad SAME_LOWER', async () => {
    await checkGradient(
      (b, x) =>
        b.node('AveragePool', [x], {
          kernel_shape: [3, 3],
          strides: [2, 2],
          auto_pad: 'SAME_LOWER',
          count_include_pad: 1,
        }),
      [1, 5, 5],
    );
  });
  it('GlobalAveragePool and GlobalMaxPool', async () => {
    await checkGradient(
      (b, x) => b.node('Add', [b.node('GlobalAveragePool', [x]), b.node('GlobalMaxPool', [x])]),
      [3, 3, 4],
    );
  });
  it('ReduceMean, ReduceSum (axes input), ReduceMax, ReduceSumSquare', async () => {
    await checkGradient(
      (b, x) => {
        const mean = b.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
        const sum = b.node('ReduceSum', [x, b.int64('axes', [1])], { keepdims: 0 });
        const max = b.node('ReduceMax', [x], { axes: [1, 3], keepdims: 1 });
        const sq = b.node('ReduceSumSquare', [x], { axes: [-1], keepdims: 0 });
        const flat = (t: string) => b.node('Flatten', [t]);
        return b.node('Concat', [flat(mean), flat(sum), flat(max), flat(sq)], { axis: 1 });
      },
      [2, 3, 2],
    );
  });
  it('BatchNormalization (inference)', async () => {
    await checkGradient(
      (b, x) => {
        const p = (name: string, seed: number, shift: number) =>
          b.initializer(
            name,
            normals(3, seed, 0.3).map((v) => v + shift),
            [3],
          );
        return b.node('BatchNormalization', [x, p('g', 1, 1), p('b', 2, 0), p('m', 3, 0), p('v', 4, 1)], {
          epsilon: 1e-3,
        });
      },
      [3, 2, 2],
    );
  });
  // ORT implements odd sizes only.
  for (const size of [3, 5]) {
    it(`LRN of size ${size}`, async () => {
      await checkGradient(
        (b, x) => b.node('LRN', [x], { size, alpha: 0.5, beta: 0.75, bias: 1.5 }),
        [5, 2, 2],
        { tol: 5e-3 },
      );
    });
  }
});

describe('shape and data-movement ops', () => {
  it('Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Dropout, Cast', async () => {
    await checkGradient(
      (b, x) => {
        const r = b.node('Reshape', [x, b.int64('shape', [0, 3, 2, 2])]);
        const t = b.node('Transpose', [r], { perm: [0, 2, 3, 1] });
        const u = b.node('Unsqueeze', [t, b.int64('ax', [1])]);
        const s = b.node('Squeeze', [u, b.int64('ax1', [1])]);
        const c = b.node('Cast', [b.node('Dropout', [b.node('Identity', [s])])], { to: 1 });
        return b.node('Flatten', [b.node('Tanh', [c])], { axis: 1 });
      },
      [12],
    );
  });
  it('Concat with a constant, Split with uneven parts and an unused output', async () => {
    await checkGradient(
      (b, x) => {
        const c = b.node('Concat', [x, w(b, 'c', [1, 2, 3], 16), b.node('Tanh', [x])], { axis: 1 });
        const [p, , r] = b.nodeOutputs(
          'Split',
          [c, b.int64('split', [1, 3, 2])],
          { axis: 1 },
          { outputs: 3 },
        );
        return b.node('Concat', [b.node('Mul', [p, p]), r], { axis: 1 });
      },
      [2, 3],
    );
  });
  it('Slice with steps, negative indices and a batch-independent constant slice', async () => {
    await checkGradient(
      (b, x) => {
        const a = b.node('Slice', [
          x,
          b.int64('s', [-1, 0]),
          b.int64('e', [-6, 4]),
          b.int64('a', [2, 1]),
          b.int64('st', [-2, 1]),
        ]);
        const c = b.node('Slice', [
          x,
          b.int64('s2', [1]),
          b.int64('e2', [9_000_000_000_000_000_000]),
          b.int64('a2', [1]),
        ]);
        return b.node('Concat', [b.node('Flatten', [a]), b.node('Flatten', [b.node('Tanh', [c])])], {
          axis: 1,
        });
      },
      [2, 5, 6],
    );
  });
  it('Pad in constant, reflect and edge modes (including negative pads)', async () => {
    await checkGradient(
      (b, x) => {
        const k = b.node('Pad', [x, b.int64('p1', [0, 0, 1, 2, 0, 0, -1, 1]), b.initializer('v', [0.5], [])]);
        const r = b.node('Pad', [x, b.int64('p2', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' });
        const e = b.node('Pad', [x, b.int64('p3', [0, 1, 0, 0, 0, 0, 2, 0])], { mode: 'edge' });
        const f = (t: string) => b.node('Flatten', [b.node('Mul', [t, t])]);
        return b.node('Concat', [f(k), f(r), f(e)], { axis: 1 });
      },
      [2, 3, 3],
    );
  });
  it('Gather with repeated indices, GatherElements, Expand, Tile', async () => {
    await checkGradient(
      (b, x) => {
        const g = b.node('Gather', [x, b.int64('i', [2, 0, 2], [3])], { axis: 1 });
        const ge = b.node('GatherElements', [x, b.int64('ie', [0, 1, 0, 2, 2, 1], [1, 2, 3])], { axis: 2 });
        const ex = b.node('Expand', [
          b.node('ReduceSum', [x, b.int64('ax', [1])], { keepdims: 1 }),
          b.int64('sh', [1, 3, 3]),
        ]);
        const t = b.node('Tile', [x, b.int64('rep', [1, 1, 2])]);
        const f = (v: string) => b.node('Flatten', [b.node('Mul', [v, v])]);
        return b.node('Concat', [f(g), f(ge), f(ex), f(t)], { axis: 1 });
      },
      [3, 3],
    );
  });
  for (const [mode, ctm, scales] of [
    ['linear', 'half_pixel', [1, 1, 2, 1.5]],
    ['linear', 'align_corners', [1, 1, 0.5, 2]],
    ['nearest', 'asymmetric', [1, 1, 2, 2]],
    ['cubic', 'pytorch_half_pixel', [1, 1, 1.5, 2]],
  ] as const) {
    it(`Resize ${mode} (${ctm}, scales ${scales.join('×')})`, async () => {
      await checkGradient(
        (b, x) => {
          const y = b.node('Resize', [x, '', b.tensor(floatTensor('scales', scales, [4]))], {
            mode,
            coordinate_transformation_mode: ctm,
          });
          return b.node('Mul', [y, y]);
        },
        [2, 4, 4],
      );
    });
  }
  it('Resize to explicit sizes', async () => {
    await checkGradient(
      (b, x) => b.node('Resize', [x, '', '', b.int64('sizes', [1, 2, 3, 7])], { mode: 'linear' }),
      [2, 4, 5],
    );
  });
  it('opset 11 attribute forms (Squeeze/Unsqueeze axes, Split split) are upgraded', async () => {
    await checkGradient(
      (b, x) => {
        const u = b.node('Unsqueeze', [x], { axes: [1] });
        const [p, q] = b.nodeOutputs('Split', [u], { axis: 2, split: [1, 2] }, { outputs: 2 });
        const s = b.node('Squeeze', [b.node('Mul', [p, p])], { axes: [1] });
        return b.node('Concat', [b.node('Flatten', [s]), b.node('Flatten', [q])], { axis: 1 });
      },
      [3, 2],
      { opset: 11 },
    );
  });
  it('alpha attribute forced to float', async () => {
    await checkGradient((b, x) => b.node('Gemm', [x, w(b, 'w', [3, 2], 17)], { alpha: floatAttr(2) }), [3]);
  });
});
