import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type AttributeValue, OnnxGraphBuilder } from '../builder.js';
import { encodeOnnxModel } from '../proto/codec.js';
import { floatTensor, int64Tensor, tensorNumbers } from '../proto/tensor-data.js';
import { DataType, type OnnxTensor } from '../proto/types.js';
import { foldableOps } from './constant-fold.js';
import { GraphInfo } from './graph-info.js';

const f32 = (values: number[], dims: number[]) => floatTensor('f', values, dims);
const i64 = (values: number[], dims = [values.length]) => int64Tensor('i', values, dims);
const f64 = (values: number[], dims: number[]): OnnxTensor => ({
  name: 'd',
  dataType: DataType.DOUBLE,
  dims,
  doubleData: values,
});

/** One node over constant inputs (stored as `Constant` nodes), as a model with no graph input. */
function oneNode(
  opset: number,
  op: string,
  inputs: OnnxTensor[],
  attrs: Record<string, AttributeValue> = {},
  outType: number = DataType.FLOAT,
) {
  const b = new OnnxGraphBuilder({ opset });
  const names = inputs.map((t, i) => b.node('Constant', [], { value: t }, { outputs: [`c${i}`] }));
  const y = b.node(op, names, attrs, { outputs: ['y'] });
  b.output(y, undefined, outType);
  return b.build();
}

/** The host-folded value of `y` and ONNX Runtime's, as plain numbers with dims. */
async function foldedAndOrt(model: ReturnType<typeof oneNode>) {
  const folded = new GraphInfo(model).constant('y');
  const session = await ort.InferenceSession.create(encodeOnnxModel(model));
  try {
    const out = (await session.run({})).y;
    const data = Array.from(out.data as ArrayLike<number | bigint>, Number);
    return {
      folded: folded && { dims: folded.dims, type: folded.dataType, data: Array.from(tensorNumbers(folded)) },
      ort: { dims: [...out.dims], data },
    };
  } finally {
    await session.release();
  }
}

const cases: Array<[string, ReturnType<typeof oneNode>]> = [
  [
    'Cast float → int64 truncates',
    oneNode(17, 'Cast', [f32([-1.7, 2.5, 3.99], [3])], { to: DataType.INT64 }, DataType.INT64),
  ],
  [
    'Cast double → float rounds to float32',
    oneNode(17, 'Cast', [f64([0.1, 1 / 3, 1e-40], [3])], { to: DataType.FLOAT }),
  ],
  ['Reshape with 0 and -1', oneNode(17, 'Reshape', [f32([1, 2, 3, 4, 5, 6], [2, 3]), i64([0, -1, 1])])],
  [
    'Transpose with perm',
    oneNode(17, 'Transpose', [f32([1, 2, 3, 4, 5, 6], [1, 2, 3])], { perm: [2, 0, 1] }),
  ],
  ['Transpose, default perm', oneNode(17, 'Transpose', [f32([1, 2, 3, 4, 5, 6], [2, 3])])],
  ['Squeeze, axes input (opset 13)', oneNode(13, 'Squeeze', [f32([1, 2, 3], [1, 3, 1]), i64([-1])])],
  [
    'Squeeze, axes attribute (opset 11)',
    oneNode(11, 'Squeeze', [f32([1, 2, 3], [1, 3, 1])], { axes: [0, 2] }),
  ],
  ['Squeeze, all unit axes', oneNode(17, 'Squeeze', [f32([1, 2, 3], [1, 3, 1])])],
  ['Unsqueeze, negative axes', oneNode(17, 'Unsqueeze', [f32([1, 2, 3, 4], [2, 2]), i64([0, -1])])],
  ['Flatten at axis 2', oneNode(17, 'Flatten', [f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1])], { axis: 2 })],
  [
    'Concat on the last axis',
    oneNode(17, 'Concat', [f32([1, 2, 3, 4], [2, 2]), f32([5, 6], [2, 1]), f32([7, 8, 9, 10], [2, 2])], {
      axis: -1,
    }),
  ],
  [
    'Add with broadcasting',
    oneNode(17, 'Add', [f32([1, 2, 3, 4, 5, 6], [2, 1, 3]), f32([10, 20, 30, 40], [4, 1])]),
  ],
  ['Sub', oneNode(17, 'Sub', [f32([1, 2, 3], [3]), f32([0.1], [])])],
  ['Mul by a scalar', oneNode(17, 'Mul', [f32([1.1, 2.2, 3.3], [3]), f32([0.7], [])])],
  ['Div (float)', oneNode(17, 'Div', [f32([1, 2, 3], [3]), f32([3, 7, 9], [3])])],
  ['Div (int64)', oneNode(17, 'Div', [i64([7, -7, 8]), i64([2, 2, -3])], {}, DataType.INT64)],
  ['Neg', oneNode(17, 'Neg', [f32([1, -2], [2])])],
  ['Sqrt', oneNode(17, 'Sqrt', [f32([2, 9], [2])])],
  ['Reciprocal', oneNode(17, 'Reciprocal', [f32([3, -0.5], [2])])],
];

describe('constant folding', () => {
  it.each(cases)('%s: the host value equals ONNX Runtime', async (_, model) => {
    const { folded, ort: want } = await foldedAndOrt(model);
    expect(folded, 'not folded').toBeDefined();
    expect(folded!.dims).toEqual(want.dims);
    expect(folded!.data).toEqual(want.data);
  });

  it('hands an Identity the very tensor it reads, and folds chains through several nodes', () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const w = b.initializer('w', [1, 2, 3, 4, 5, 6], [2, 3]);
    const shared = b.node('Identity', [w], {}, { outputs: ['shared'] });
    const t = b.node('Transpose', [shared], { perm: [1, 0] });
    const c = b.node('Cast', [b.node('Reshape', [t, b.int64('shape', [3, 2])])], { to: DataType.DOUBLE });
    b.output(b.node('Mul', [c, b.node('Constant', [], { value: f64([2], []) })], {}, { outputs: ['y'] }));
    const info = new GraphInfo(b.build());
    expect(info.constant('shared')).toBe(info.constants.get('w'));
    const y = info.constant('y')!;
    expect(y.dataType).toBe(DataType.DOUBLE);
    expect(y.dims).toEqual([3, 2]);
    expect(Array.from(tensorNumbers(y))).toEqual([2, 8, 4, 10, 6, 12]);
    expect(info.dtype('y')).toBe(DataType.DOUBLE);
    expect(info.shape('y')).toEqual([3, 2]);
  });

  it('says why a tensor is not constant: the model input, an op it does not fold, or both', () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3]);
    const w = b.initializer('w', [1, 2, 3], [3]);
    b.node('Mul', [x, w], {}, { name: 'scale', outputs: ['scaled'] });
    b.node('Exp', [w], {}, { name: 'exp', outputs: ['e'] });
    b.node('Identity', ['e'], {}, { name: 'pass', outputs: ['through'] });
    b.node('Cast', [w], { to: DataType.FLOAT16 }, { name: 'half', outputs: ['h'] });
    const info = new GraphInfo(b.build());
    for (const t of ['x', 'scaled', 'e', 'through', 'h']) expect(info.constant(t), t).toBeUndefined();
    expect(info.whyNotConstant('x')).toBe('is a graph input');
    expect(info.whyNotConstant('scaled')).toBe(
      'comes from node scale (op Mul), which depends on the model input',
    );
    expect(info.whyNotConstant('e')).toMatch(
      /^comes from node exp \(op Exp\), which xlens does not evaluate/,
    );
    expect(info.whyNotConstant('e')).toContain(foldableOps.join(', '));
    expect(info.whyNotConstant('through')).toMatch(
      /^comes from node pass \(op Identity\), whose input e comes from node exp/,
    );
    expect(info.whyNotConstant('h')).toBe(
      'comes from node half (op Cast), whose element types or attributes xlens cannot fold',
    );
  });
});
