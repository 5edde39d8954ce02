import { UnsupportedError } from '@xlens/core';
import { attrInt, attrInts, attrString } from '../graph/graph-info.js';
import { type Emitter, staticDims } from './emitter.js';
import type { BackwardContext, OpGradient } from './types.js';

const reshapeBack = (ctx: BackwardContext): (string | undefined)[] => [
  ctx.e.reshapeLike(ctx.g[0]!, ctx.node.input[0]),
];

/**
 * The gradient of any op that only moves (or repeats) elements of its first input: run the same
 * op on the element indices of the input and scatter-add the cotangent back to those indices.
 * `padValue` marks positions that come from no input element (constant padding); they land in a
 * spare slot that is dropped.
 */
function indexScatter(ctx: BackwardContext, padValue = false): string {
  const { e, node } = ctx;
  const x = node.input[0];
  const size = e.op('Size', [x]);
  const iota = e.reshapeLike(e.op('Range', [e.i64([0], []), size, e.i64([1], [])]), x);
  const inputs = [iota, ...node.input.slice(1)];
  if (padValue) {
    while (inputs.length < 3) inputs.push('');
    inputs[2] = size;
  }
  const moved = e.replay({ ...node, output: [] }, inputs)[0];
  const slots = padValue ? e.op('Add', [size, e.i64([1], [])]) : size;
  const zeros = e.op('ConstantOfShape', [e.op('Reshape', [slots, e.i64([1])])]);
  const flat = e.op(
    'ScatterElements',
    [zeros, e.op('Reshape', [moved, e.i64([-1])]), e.op('Reshape', [ctx.g[0]!, e.i64([-1])])],
    {
      axis: 0,
      reduction: 'add',
    },
  );
  const kept = padValue
    ? e.op('Slice', [flat, e.i64([0]), e.op('Reshape', [size, e.i64([1])]), e.i64([0])])
    : flat;
  return e.reshapeLike(kept, x);
}

function sliceBackward(ctx: BackwardContext): string {
  const { e, node } = ctx;
  const x = node.input[0];
  const xs = staticDims(e, x, node);
  const starts = e.info.constantValues(node.input[1]);
  const ends = e.info.constantValues(node.input[2]);
  const axes = node.input[3] ? e.info.constantValues(node.input[3]) : starts?.map((_, i) => i);
  const steps = node.input[4] ? e.info.constantValues(node.input[4]) : starts?.map(() => 1);
  const facts = e.info.facts.get(x);
  if (!starts || !ends || !axes || !steps?.every((s) => s === 1) || !facts) return indexScatter(ctx);
  const pads = new Array(2 * xs.length).fill(0);
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i] < 0 ? axes[i] + xs.length : axes[i];
    // Axes that follow the batch size cannot be padded by constants.
    if (facts.shape1[a] !== facts.shape2[a]) return indexScatter(ctx);
    const d = xs[a];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const b = clamp(starts[i]);
    const en = Math.max(b, clamp(ends[i]));
    pads[a] = b;
    pads[xs.length + a] = d - en;
  }
  return e.op('Pad', [ctx.g[0]!, e.i64(pads)]);
}

/** Concat of the axis sizes of the inputs, read at run time (so batch-sized axes work too). */
function splitSizes(e: Emitter, inputs: readonly string[], axis: number): string {
  const parts = inputs.map((x) => e.op('Slice', [e.shapeOf(x), e.i64([axis]), e.i64([axis + 1])]));
  return parts.length === 1 ? parts[0] : e.op('Concat', parts, { axis: 0 });
}

function concatBackward(ctx: BackwardContext): (string | undefined)[] {
  const { e, node } = ctx;
  const rank = staticDims(e, node.output[0], node).length;
  const raw = attrInt(node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  const inputs = node.input.filter((x) => x);
  const pieces = e.ops('Split', [ctx.g[0]!, splitSizes(e, inputs, axis)], inputs.length, { axis });
  let k = 0;
  return node.input.map((x, i) => {
    if (!x) return undefined;
    const piece = pieces[k++];
    return ctx.wants[i] ? piece : undefined;
  });
}

function splitBackward(ctx: BackwardContext): (string | undefined)[] {
  const { e, node } = ctx;
  const rank = staticDims(e, node.input[0], node).length;
  const raw = attrInt(node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  const parts = node.output.filter((y) => y).map((y, i) => ctx.g[i] ?? e.zerosLike(y));
  return [parts.length === 1 ? parts[0] : e.op('Concat', parts, { axis })];
}

function transposeBackward(ctx: BackwardContext): (string | undefined)[] {
  const { e, node } = ctx;
  const rank = staticDims(e, node.input[0], node).length;
  const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array(rank);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [e.op('Transpose', [ctx.g[0]!], { perm: inverse })];
}

/**
 * Resize is linear in its input and separable: along each resized axis it multiplies by an
 * interpolation matrix. Each matrix is read off by resizing an identity matrix with the node's own
 * settings (so every mode and coordinate convention matches ORT exactly), then the cotangent is
 * multiplied by the transposes.
 */
function resizeBackward(ctx: BackwardContext): string {
  const { e, node } = ctx;
  const x = node.input[0];
  const xs = staticDims(e, x, node);
  const ys = staticDims(e, node.output[0], node);
  const unsupported = (why: string): never => {
    throw new UnsupportedError(
      'unsupported-op',
      `op Resize (node ${node.name}): ${why}; xlens differentiates Resize over the last two axes of a 4-D tensor`,
    );
  };
  if (xs.length !== 4) unsupported(`input has rank ${xs.length}`);
  if (xs[0] !== ys[0] || xs[1] !== ys[1]) unsupported('it resizes the batch or channel axis');
  if (attrInts(node, 'axes')) unsupported('it has an axes attribute');
  if (attrString(node, 'coordinate_transformation_mode', 'half_pixel') === 'tf_crop_and_resize')
    unsupported('tf_crop_and_resize');
  const scales = node.input[2] ? e.info.constantValues(node.input[2]) : undefined;
  const matrix = (axis: 2 | 3): string => {
    const n = xs[axis];
    const eye = new Float32Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    const identity = e.tensor('eye', eye, [1, 1, n, n]);
    const inputs = [identity, node.input[1] ?? ''];
    if (scales && scales.length === 4) {
      inputs.push(
        e.tensor(
          'scales',
          Float32Array.from([1, 1, axis === 2 ? scales[2] : 1, axis === 3 ? scales[3] : 1]),
          [4],
        ),
      );
    } else {
      inputs.push('', e.i64([1, 1, axis === 2 ? ys[2] : n, axis === 3 ? ys[3] : n]));
    }
    // [out, in] along axis 2; [in, out] along axis 3.
    return e.op('Reshape', [
      e.replay({ ...node, output: [] }, inputs)[0],
      e.i64(axis === 2 ? [ys[2], n] : [n, ys[3]]),
    ]);
  };
  let g = ctx.g[0]!;
  if (xs[2] !== ys[2] || scales?.[2] !== 1)
    g = e.op('MatMul', [e.op('Transpose', [matrix(2)], { perm: [1, 0] }), g]);
  if (xs[3] !== ys[3] || scales?.[3] !== 1)
    g = e.op('MatMul', [g, e.op('Transpose', [matrix(3)], { perm: [1, 0] })]);
  return g;
}

/** Gradients of reshapes, permutations, slicing, padding, gathering and resizing. */
export const shapeOps: Record<string, OpGradient> = {
  Reshape: { diff: [0], backward: reshapeBack, layout: true },
  Flatten: { diff: [0], backward: reshapeBack, layout: true },
  Squeeze: { diff: [0], backward: reshapeBack, layout: true },
  Unsqueeze: { diff: [0], backward: reshapeBack, layout: true },
  Transpose: { diff: [0], backward: transposeBackward, layout: true },
  Concat: { diff: Array.from({ length: 64 }, (_, i) => i), backward: concatBackward },
  Split: { diff: [0], backward: splitBackward },
  Slice: { diff: [0], backward: (ctx) => [sliceBackward(ctx)] },
  Pad: {
    diff: [0],
    backward: (ctx) => {
      if (attrString(ctx.node, 'mode', 'constant') === 'constant') return [indexScatter(ctx, true)];
      return [indexScatter(ctx)];
    },
  },
  Gather: { diff: [0], backward: (ctx) => [indexScatter(ctx)] },
  GatherElements: { diff: [0], backward: (ctx) => [indexScatter(ctx)] },
  GatherND: { diff: [0], backward: (ctx) => [indexScatter(ctx)] },
  Tile: { diff: [0], backward: (ctx) => [indexScatter(ctx)] },
  Expand: {
    diff: [0],
    backward: (ctx) => [ctx.e.unbroadcast(ctx.g[0]!, ctx.node.input[0], ctx.node.output[0])],
  },
  Resize: { diff: [0], backward: (ctx) => [resizeBackward(ctx)] },
};
