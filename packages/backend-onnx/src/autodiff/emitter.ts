import { UnsupportedError } from '@xlens/core';
import type { AttributeValue, OnnxGraphBuilder } from '../builder.js';
import type { GraphInfo } from '../graph/graph-info.js';
import { floatTensor, int64Tensor } from '../proto/tensor-data.js';
import { DataType, type OnnxNode, type OnnxTensor } from '../proto/types.js';

/** The shape of tensor `name` as the probe pass saw it; throws `UnsupportedError` when it is unknown. */
export function staticDims(e: Emitter, name: string, node: OnnxNode): readonly number[] {
  const s = e.info.shape(name);
  if (!s)
    throw new UnsupportedError(
      'unsupported',
      `shape of ${name} (node ${node.name}) is unknown; the probe did not reach it`,
    );
  return s;
}

/**
 * Appends backward nodes to a graph under construction, with the small helpers every op's
 * backward rule needs (shapes at run time, cached constants, undoing broadcasts). Names of new
 * tensors are prefixed so they never clash with the forward graph.
 */
export class Emitter {
  readonly b: OnnxGraphBuilder;
  readonly info: GraphInfo;
  private readonly shapes = new Map<string, string>();
  private readonly consts = new Map<string, string>();

  constructor(builder: OnnxGraphBuilder, info: GraphInfo) {
    this.b = builder;
    this.info = info;
  }

  /** The default-domain opset of the graph being written. */
  get opset(): number {
    return this.b.opset;
  }

  /** Add a node with one output. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue | undefined> = {},
  ): string {
    return this.b.node(opType, inputs, attrs, {
      name: `xlens/${opType}`,
      outputs: [this.b.unique(`xlens/${opType}`)],
    });
  }

  /** Add a node with several outputs. */
  ops(
    opType: string,
    inputs: readonly string[],
    count: number,
    attrs: Record<string, AttributeValue | undefined> = {},
  ): string[] {
    const outputs = Array.from({ length: count }, () => this.b.unique(`xlens/${opType}`));
    return this.b.nodeOutputs(opType, inputs, attrs, { name: `xlens/${opType}`, outputs });
  }

  /** Copy a forward node with some inputs replaced (and only its first output), e.g. to rerun it on other values. */
  replay(node: OnnxNode, inputs: readonly string[], outputs = 1): string[] {
    const names = Array.from({ length: outputs }, () => this.b.unique(`xlens/${node.opType}`));
    this.b.graph.node.push({
      ...node,
      name: this.b.unique(`xlens/replay/${node.name ?? node.opType}`),
      input: [...inputs],
      output: names,
    });
    return names;
  }

  /** `Shape(t)`, emitted once per tensor. */
  shapeOf(t: string): string {
    let s = this.shapes.get(t);
    if (!s) {
      s = this.op('Shape', [t]);
      this.shapes.set(t, s);
    }
    return s;
  }

  /** An int64 constant (1-D unless `dims` says otherwise). */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.b.tensor(int64Tensor('xlens/const', values, dims));
      this.consts.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant. */
  f32(value: number): string {
    const key = `f32:${value}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.b.tensor(floatTensor('xlens/const', [value], []));
      this.consts.set(key, name);
    }
    return name;
  }

  /** A float32 tensor constant (not cached). */
  tensor(prefix: string, values: Float32Array, dims: readonly number[]): string {
    return this.b.tensor(floatTensor(`xlens/${prefix}`, values, dims));
  }

  /**
   * A float constant tensor of the graph being written, if `name` is one: a forward constant
   * (folded through `Identity`, `Reshape`, … as `GraphInfo.constant` does) or a new initializer.
   */
  constant(name: string): OnnxTensor | undefined {
    const t = this.info.constant(name) ?? this.b.graph.initializer.find((i) => i.name === name);
    return t && t.dataType === DataType.FLOAT ? t : undefined;
  }

  /** Zeros shaped like `t`. */
  zerosLike(t: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(t)], { value: floatTensor('value', [0], [1]) });
  }

  /** Ones shaped like `t`. */
  onesLike(t: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(t)], { value: floatTensor('value', [1], [1]) });
  }

  /** `Reshape(g, Shape(like))`. */
  reshapeLike(g: string, like: string): string {
    return this.op('Reshape', [g, this.shapeOf(like)]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }

  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }

  neg(a: string): string {
    return this.op('Neg', [a]);
  }

  /** `Where(cond, a, b)`. */
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }

  /** `num / den`, 0 where `den` is exactly 0. */
  safeDiv(num: string, den: string): string {
    const zero = this.f32(0);
    const isZero = this.op('Equal', [den, zero]);
    const safe = this.where(isZero, this.f32(1), den);
    return this.where(isZero, zero, this.div(num, safe));
  }

  /** `ReduceSum(t, axes, keepdims)` (opset 13+ form: axes as an input). */
  reduceSum(t: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceSum', [t, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  /**
   * The cotangent of an operand `x` that was broadcast into a result shaped like `y`: sum `g`
   * over the axes `x` was stretched along, then give it `x`'s shape. Which axes those are comes
   * from the probe dims at batch 2, so batch-following axes are never mistaken for broadcast ones.
   * `y` is the forward result (or, for an intermediate, its dims at batch 2).
   */
  unbroadcast(g: string, x: string, y: string | readonly number[]): string {
    const xs = this.info.shape(x);
    const ys = typeof y === 'string' ? this.info.shape(y) : y;
    if (!xs || !ys) return this.reshapeLike(g, x);
    const d = ys.length - xs.length;
    const axes: number[] = [];
    for (let i = 0; i < ys.length; i++) {
      if (i < d || (xs[i - d] === 1 && ys[i] !== 1)) axes.push(i);
    }
    if (axes.length === 0) return g;
    const summed = this.reduceSum(g, axes, true);
    return d > 0 || xs.length === 0 ? this.reshapeLike(summed, x) : summed;
  }

  /** `Cast(t)` to float32 when the forward tensor `like` is not float32, else `t`. */
  castLike(t: string, like: string): string {
    const dt = this.info.dtype(like);
    return dt === undefined || dt === DataType.FLOAT ? t : this.op('Cast', [t], { to: dt });
  }

  /**
   * For a batch made of two halves (items, then their references), the same tensor with the
   * halves swapped, so `t − swapHalves(t)` is the difference to the reference in both halves.
   */
  swapHalves(t: string): string {
    const [a, c] =
      this.opset >= 18
        ? this.ops('Split', [t], 2, { axis: 0, num_outputs: 2 })
        : this.ops('Split', [t], 2, { axis: 0 });
    return this.op('Concat', [c, a], { axis: 0 });
  }
}
