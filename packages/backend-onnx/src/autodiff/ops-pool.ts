import { UnsupportedError } from '@xlens/core';
import { attrFloat, attrInt, attrInts, attrString } from '../graph/graph-info.js';
import type { OnnxNode } from '../proto/types.js';
import { type Emitter, staticDims } from './emitter.js';
import type { OpGradient } from './types.js';

/** A pooling window as a depthwise convolution geometry, pads stretched to cover ceil-mode windows. */
interface Window {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly pads: number[];
  readonly outputPadding: number[];
  readonly channels: number;
  readonly spatial: number[];
}

function poolWindow(e: Emitter, node: OnnxNode): Window {
  const xs = staticDims(e, node.input[0], node);
  const ys = staticDims(e, node.output[0], node);
  const n = xs.length - 2;
  const kernel = attrInts(node, 'kernel_shape')!;
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const pads =
    autoPad === 'NOTSET'
      ? [...(attrInts(node, 'pads') ?? new Array(2 * n).fill(0))]
      : new Array(2 * n).fill(0);
  const outputPadding = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (ys[2 + i] - 1) * strides[i] + span - xs[2 + i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[n + i] = total - pads[i];
    }
    // ConvTranspose over the windows yields (out−1)·s + span − pads; ceil-mode windows reaching past
    // the padded input only cover padding there, so the end pad grows to absorb them.
    const total = (ys[2 + i] - 1) * strides[i] + span;
    pads[n + i] = Math.max(pads[n + i], total - pads[i] - xs[2 + i]);
    outputPadding[i] = xs[2 + i] + pads[i] + pads[n + i] - total;
  }
  return {
    kernel,
    strides,
    dilations,
    pads,
    outputPadding,
    channels: xs[1],
    spatial: xs.slice(2) as number[],
  };
}

function onesKernel(e: Emitter, w: Window, channels: number): string {
  const size = channels * w.kernel.reduce((a, b) => a * b, 1);
  return e.tensor('ones_kernel', new Float32Array(size).fill(1), [channels, 1, ...w.kernel]);
}

/** Σ over each window (zero padding), per channel. */
function windowSum(e: Emitter, w: Window, x: string, channels = w.channels): string {
  return e.op('Conv', [x, onesKernel(e, w, channels)], {
    kernel_shape: w.kernel,
    strides: w.strides,
    dilations: w.dilations,
    pads: w.pads,
    group: channels,
  });
}

/** The transpose of `windowSum`: every window's value added to each of its inputs. */
function windowSpread(e: Emitter, w: Window, t: string): string {
  return e.op('ConvTranspose', [t, onesKernel(e, w, w.channels)], {
    kernel_shape: w.kernel,
    strides: w.strides,
    dilations: w.dilations,
    pads: w.pads,
    group: w.channels,
    output_padding: w.outputPadding.some((p) => p !== 0) ? w.outputPadding : undefined,
  });
}

/**
 * Kernel and output spatial dims of a MaxPool whose windows tile its input exactly (stride =
 * kernel, no padding or dilation, sizes divisible), or undefined.
 */
function tiling(e: Emitter, node: OnnxNode): { kernel: number[]; ys: number[] } | undefined {
  const xs = staticDims(e, node.input[0], node);
  const ys = staticDims(e, node.output[0], node).slice(2);
  const n = xs.length - 2;
  const kernel = attrInts(node, 'kernel_shape');
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array(2 * n).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (!kernel || kernel.length !== n || (autoPad !== 'NOTSET' && autoPad !== 'VALID')) return undefined;
  if (attrInt(node, 'storage_order', 0) !== 0) return undefined;
  const exact = kernel.every(
    (k, i) =>
      strides[i] === k &&
      dilations[i] === 1 &&
      (autoPad === 'VALID' || (pads[i] === 0 && pads[n + i] === 0)) &&
      xs[2 + i] === ys[i] * k,
  );
  return exact ? { kernel, ys } : undefined;
}

function maxPoolBackward(e: Emitter, node: OnnxNode, g: string, rule: 'winner' | 'proportional'): string {
  const x = node.input[0];
  if (rule === 'proportional') {
    const w = poolWindow(e, node);
    const sums = windowSum(e, w, x);
    return windowSpread(e, w, e.safeDiv(e.mul(node.output[0], g), sums));
  }
  // Winner takes all: the cotangent goes to each window's argmax (flat index over N·C·H·W).
  const [, indices] = e.replay({ ...node, output: [] }, [x], 2);
  const tiles = tiling(e, node);
  if (tiles) {
    // The windows tile the input: each input lies in exactly one window. Spreading every window's
    // cotangent and argmax over its window and keeping the cotangent where the argmax is the
    // input's own flat index takes element-wise ops only, instead of a full-size scatter.
    const { kernel, ys } = tiles;
    const split = e.i64([0, 0, ...ys.flatMap((y) => [y, 1])]);
    const widen = e.i64([1, 1, ...kernel.flatMap((k) => [1, k])]);
    const spread = (t: string) => e.reshapeLike(e.op('Expand', [e.op('Reshape', [t, split]), widen]), x);
    const size = e.op('Size', [x]);
    const positions = e.reshapeLike(e.op('Range', [e.i64([0], []), size, e.i64([1], [])]), x);
    return e.where(e.op('Equal', [spread(indices), positions]), spread(g), e.f32(0));
  }
  const flatIdx = e.op('Reshape', [indices, e.i64([-1])]);
  const flatG = e.op('Reshape', [g, e.i64([-1])]);
  const zeros = e.op('ConstantOfShape', [e.op('Reshape', [e.op('Size', [x]), e.i64([1])])]);
  const scattered = e.op('ScatterElements', [zeros, flatIdx, flatG], { axis: 0, reduction: 'add' });
  return e.reshapeLike(scattered, x);
}

function averagePoolBackward(e: Emitter, node: OnnxNode, g: string): string {
  const w = poolWindow(e, node);
  // Per-window weight = AveragePool's own divisor, read off by pooling ones (constant-folded by ORT).
  const ones = e.tensor('ones', new Float32Array(w.spatial.reduce((a, b) => a * b, 1)).fill(1), [
    1,
    1,
    ...w.spatial,
  ]);
  const pooled = e.replay({ ...node, output: [] }, [ones])[0];
  const weight = e.div(pooled, windowSum(e, w, ones, 1));
  return windowSpread(e, w, e.mul(g, weight));
}

/** Normalized reduce axes of a Reduce* node (attribute before opset 18/13, input after). */
function reduceAxes(e: Emitter, node: OnnxNode, rank: number): number[] {
  let axes = attrInts(node, 'axes');
  if (!axes && node.input[1]) {
    axes = e.info.constantValues(node.input[1]);
    if (!axes)
      throw new UnsupportedError(
        'unsupported-op',
        `op ${node.opType} (node ${node.name}): its axes are computed at run time, which xlens cannot differentiate`,
      );
  }
  if (!axes || axes.length === 0) {
    return attrInt(node, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** The reduced result (or its cotangent) with the reduced axes kept as size 1. */
function keepDims(e: Emitter, node: OnnxNode, t: string, axes: number[]): string {
  return attrInt(node, 'keepdims', 1) || axes.length === 0 ? t : e.op('Unsqueeze', [t, e.i64(axes)]);
}

function reduceBackward(kind: 'sum' | 'mean' | 'extreme' | 'square'): OpGradient {
  return {
    diff: [0],
    backward: ({ e, node, g }) => {
      const x = node.input[0];
      const axes = reduceAxes(e, node, staticDims(e, x, node).length);
      const gk = keepDims(e, node, g[0]!, axes);
      const spread = e.op('Expand', [gk, e.shapeOf(x)]);
      if (kind === 'sum') return [spread];
      if (kind === 'square') return [e.mul(spread, e.mul(x, e.f32(2)))];
      if (kind === 'mean') {
        const ratio = e.div(
          e.op('Cast', [e.op('Size', [node.output[0]])], { to: 1 }),
          e.op('Cast', [e.op('Size', [x])], { to: 1 }),
        );
        return [e.mul(spread, ratio)];
      }
      // Max / min: shared equally between tied extremes.
      const hit = e.op('Cast', [e.op('Equal', [x, keepDims(e, node, node.output[0], axes)])], { to: 1 });
      const count = e.reduceSum(hit, axes, true);
      return [e.mul(e.mul(spread, hit), e.op('Reciprocal', [count]))];
    },
  };
}

/** Per-channel factor `[1, C, 1, …]` of an inference BatchNormalization: γ/√(σ²+ε). */
export function batchNormScale(e: Emitter, node: OnnxNode): string {
  const rank = staticDims(e, node.input[0], node).length;
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const factor = e.div(node.input[1], e.op('Sqrt', [e.add(node.input[4], e.f32(eps))]));
  return e.op('Reshape', [factor, e.i64([1, -1, ...new Array(Math.max(0, rank - 2)).fill(1)])]);
}

function lrnBackward(e: Emitter, node: OnnxNode, g: string): string {
  const x = node.input[0];
  const xs = staticDims(e, x, node);
  const size = attrInt(node, 'size', 1);
  const alpha = attrFloat(node, 'alpha', 1e-4);
  const beta = attrFloat(node, 'beta', 0.75);
  const bias = attrFloat(node, 'bias', 1);
  const before = Math.floor((size - 1) / 2);
  const after = size - 1 - before;
  // Channel windows as a 1-channel conv over [N, 1, C, rest].
  const rest = xs.slice(2).reduce((a, b) => a * b, 1);
  const kernel = e.tensor('lrn_kernel', new Float32Array(size).fill(1), [1, 1, size, 1]);
  const windows = (t: string, lo: number, hi: number) =>
    e.reshapeLike(
      e.op('Conv', [e.op('Reshape', [t, e.i64([-1, 1, xs[1], rest])]), kernel], { pads: [lo, 0, hi, 0] }),
      x,
    );
  const d = e.add(e.f32(bias), e.mul(e.f32(alpha / size), windows(e.mul(x, x), before, after)));
  const dPowBeta = e.op('Pow', [d, e.f32(-beta)]);
  const inner = e.mul(e.mul(g, x), e.div(dPowBeta, d));
  // Each input channel sits in the windows of the channels `after` below to `before` above it.
  const spread = windows(inner, after, before);
  return e.sub(e.mul(g, dPowBeta), e.mul(e.mul(x, spread), e.f32((2 * alpha * beta) / size)));
}

/** Gradients of pooling, reductions and normalizations. */
export const poolOps: Record<string, OpGradient> = {
  MaxPool: {
    diff: [0],
    backward: ({ e, node, g, rules }) => [maxPoolBackward(e, node, g[0]!, rules.maxPool)],
  },
  AveragePool: { diff: [0], backward: ({ e, node, g }) => [averagePoolBackward(e, node, g[0]!)] },
  GlobalAveragePool: {
    diff: [0],
    backward: ({ e, node, g }) => {
      const area = staticDims(e, node.input[0], node)
        .slice(2)
        .reduce((a, b) => a * b, 1);
      return [e.mul(e.op('Expand', [g[0]!, e.shapeOf(node.input[0])]), e.f32(1 / area))];
    },
  },
  GlobalMaxPool: {
    diff: [0],
    backward: ({ e, node, g }) => {
      const x = node.input[0];
      const axes = Array.from({ length: staticDims(e, x, node).length - 2 }, (_, i) => i + 2);
      const hit = e.op('Cast', [e.op('Equal', [x, node.output[0]])], { to: 1 });
      const share = e.mul(hit, e.op('Reciprocal', [e.reduceSum(hit, axes, true)]));
      return [e.mul(e.op('Expand', [g[0]!, e.shapeOf(x)]), share)];
    },
  },
  ReduceSum: reduceBackward('sum'),
  ReduceMean: reduceBackward('mean'),
  ReduceMax: reduceBackward('extreme'),
  ReduceMin: reduceBackward('extreme'),
  ReduceSumSquare: reduceBackward('square'),
  BatchNormalization: {
    diff: [0],
    backward: ({ e, node, g }) => {
      if (node.output.filter((o) => o).length > 1 || attrInt(node, 'training_mode', 0)) {
        throw new UnsupportedError(
          'unsupported-op',
          `op BatchNormalization (node ${node.name}) runs in training mode; xlens differentiates inference-mode BatchNormalization only`,
        );
      }
      return [e.mul(g[0]!, batchNormScale(e, node))];
    },
  },
  LRN: { diff: [0], backward: ({ e, node, g }) => [lrnBackward(e, node, g[0]!)] },
};
