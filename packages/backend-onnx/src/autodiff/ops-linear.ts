import { floatAttr } from '../builder.js';
import { attrFloat, attrInt, attrInts, attrString } from '../graph/graph-info.js';
import { tensorFloat32 } from '../proto/tensor-data.js';
import type { OnnxNode } from '../proto/types.js';
import { type Emitter, staticDims } from './emitter.js';
import type { OpGradient } from './types.js';

/** Resolved geometry of a convolution-like node: kernel, strides, dilations and explicit pads. */
export interface ConvGeometry {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  /** `[begin…, end…]` as ONNX writes them. */
  readonly pads: number[];
  readonly group: number;
}

/** Kernel, strides, dilations, group and explicit pads of a Conv (auto_pad resolved from shapes). */
export function convGeometry(e: Emitter, node: OnnxNode): ConvGeometry {
  const xs = staticDims(e, node.input[0], node);
  const ws = staticDims(e, node.input[1], node);
  const n = xs.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? ws.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(2 * n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const size = xs[2 + i];
      const out = Math.ceil(size / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[n + i] = total - pads[i];
    }
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * n).fill(0);
  }
  return { kernel, strides, dilations, pads, group: attrInt(node, 'group', 1) };
}

/**
 * Input-gradient of `Conv` with weights `weight` (the node's own, or a rule's modified ones):
 * a `ConvTranspose` with the same geometry and an `output_padding` that restores the input's
 * exact size for strided convolutions.
 */
export function convInputGrad(e: Emitter, node: OnnxNode, g: string, weight: string): string {
  const geo = convGeometry(e, node);
  const xs = staticDims(e, node.input[0], node);
  const ys = staticDims(e, node.output[0], node);
  const n = xs.length - 2;
  const flipped = geo.strides.every((s) => s === 1) ? flippedConv(e, geo, weight) : undefined;
  if (flipped) {
    // Stride 1: the input-gradient is itself a convolution (kernel rotated 180°, channels swapped),
    // which ORT runs through its optimised Conv path rather than ConvTranspose.
    const pads = [...geo.kernel, ...geo.kernel].map((k, j) => (k - 1) * geo.dilations[j % n] - geo.pads[j]);
    if (pads.every((p) => p >= 0)) {
      return e.op('Conv', [g, flipped], {
        kernel_shape: geo.kernel,
        dilations: geo.dilations,
        pads,
        group: geo.group,
      });
    }
  }
  const outputPadding = geo.kernel.map((k, i) => {
    const covered =
      (ys[2 + i] - 1) * geo.strides[i] - geo.pads[i] - geo.pads[n + i] + (k - 1) * geo.dilations[i] + 1;
    return xs[2 + i] - covered;
  });
  return e.op('ConvTranspose', [g, weight], {
    kernel_shape: geo.kernel,
    strides: geo.strides,
    dilations: geo.dilations,
    pads: geo.pads,
    group: geo.group,
    output_padding: outputPadding.some((p) => p !== 0) ? outputPadding : undefined,
  });
}

/** A constant conv weight `[O, I/g, k…]` rotated 180° with in/out channels swapped per group: `[I, O/g, k…]`. */
function flippedConv(e: Emitter, geo: ConvGeometry, weight: string): string | undefined {
  const t = e.constant(weight);
  if (!t) return undefined;
  const w = tensorFloat32(t);
  const [outC, inG, ...kernel] = t.dims;
  const groups = geo.group;
  const outG = outC / groups;
  const area = kernel.reduce((a, b) => a * b, 1);
  const out = new Float32Array(w.length);
  for (let gi = 0; gi < groups; gi++)
    for (let o = 0; o < outG; o++)
      for (let i = 0; i < inG; i++) {
        const src = ((gi * outG + o) * inG + i) * area;
        const dst = ((gi * inG + i) * outG + o) * area;
        // Reversing the flattened kernel reverses every spatial axis at once.
        for (let a = 0; a < area; a++) out[dst + a] = w[src + area - 1 - a];
      }
  return e.tensor('flipped_weight', out, [inG * groups, outG, ...kernel]);
}

/** Input-gradient of `ConvTranspose` (weights `weight`, default its own): a `Conv` with the pads it implied. */
export function convTransposeInputGrad(
  e: Emitter,
  node: OnnxNode,
  g: string,
  weight = node.input[1],
): string {
  const xs = staticDims(e, node.input[0], node);
  const ys = staticDims(e, node.output[0], node);
  const ws = staticDims(e, node.input[1], node);
  const n = xs.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? ws.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(n).fill(1);
  const outPad = attrInts(node, 'output_padding') ?? new Array(n).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const explicit = attrInts(node, 'pads');
  const pads = new Array(2 * n).fill(0);
  for (let i = 0; i < n; i++) {
    if (explicit && !attrInts(node, 'output_shape') && autoPad === 'NOTSET') {
      pads[i] = explicit[i];
      pads[n + i] = explicit[n + i];
      continue;
    }
    const total = strides[i] * (xs[2 + i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - ys[2 + i];
    const half = Math.floor(total / 2);
    pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
    pads[n + i] = total - pads[i];
  }
  return e.op('Conv', [g, weight], {
    kernel_shape: kernel,
    strides,
    dilations,
    pads,
    group: attrInt(node, 'group', 1),
  });
}

/** Input-gradient of `Gemm` w.r.t. A, with B replaced by `weight`. */
export function gemmInputGrad(e: Emitter, node: OnnxNode, g: string, weight: string): string {
  const transA = attrInt(node, 'transA', 0);
  const transB = attrInt(node, 'transB', 0);
  const alpha = floatAttr(attrFloat(node, 'alpha', 1));
  return transA
    ? e.op('Gemm', [weight, g], { alpha, transA: transB, transB: 1 })
    : e.op('Gemm', [g, weight], { alpha, transB: transB ? 0 : 1 });
}

function swapLast(e: Emitter, t: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return e.op('Transpose', [t], { perm });
}

/** Gradients of `MatMul` (numpy semantics) for the wanted operands, `B` replaced by `weight` if given. */
export function matmulGrads(
  e: Emitter,
  node: OnnxNode,
  g: string,
  wants: readonly boolean[],
  weight?: string,
): (string | undefined)[] {
  const [a, b0] = node.input;
  const b = weight ?? b0;
  const ra = staticDims(e, a, node).length;
  const rb = staticDims(e, b0, node).length;
  const ys = staticDims(e, node.output[0], node);
  const out: (string | undefined)[] = [undefined, undefined];
  if (ra >= 2 && rb >= 2) {
    const batch = ys.slice(0, -2);
    if (wants[0])
      out[0] = e.unbroadcast(e.op('MatMul', [g, swapLast(e, b, rb)]), a, [
        ...batch,
        ...staticDims(e, a, node).slice(-2),
      ]);
    if (wants[1])
      out[1] = e.unbroadcast(e.op('MatMul', [swapLast(e, a, ra), g]), b0, [
        ...batch,
        ...staticDims(e, b0, node).slice(-2),
      ]);
    return out;
  }
  if (rb === 1 && ra >= 2) {
    // y[..., m] = Σ_k a[..., m, k] b[k].
    const gu = e.op('Unsqueeze', [g, e.i64([-1])]);
    if (wants[0]) out[0] = e.unbroadcast(e.mul(gu, b), a, [...ys, staticDims(e, b0, node)[0]]);
    if (wants[1])
      out[1] = e.reduceSum(
        e.mul(a, gu),
        Array.from({ length: ra - 1 }, (_, i) => i),
        false,
      );
    return out;
  }
  if (ra === 1 && rb >= 2) {
    // y[..., n] = Σ_k a[k] b[..., k, n].
    const gu = e.op('Unsqueeze', [g, e.i64([-2])]);
    const k = staticDims(e, a, node)[0];
    if (wants[1])
      out[1] = e.unbroadcast(e.mul(e.op('Reshape', [a, e.i64([k, 1])]), gu), b0, [
        ...ys.slice(0, -1),
        k,
        ys[ys.length - 1],
      ]);
    if (wants[0]) {
      const axes = Array.from({ length: rb }, (_, i) => i).filter((i) => i !== rb - 2);
      out[0] = e.reduceSum(e.mul(b, gu), axes, false);
    }
    return out;
  }
  // 1-D · 1-D: a scalar.
  if (wants[0]) out[0] = e.mul(g, b);
  if (wants[1]) out[1] = e.mul(g, a);
  return out;
}

/** Gradients of the linear ops. */
export const linearOps: Record<string, OpGradient> = {
  Conv: {
    diff: [0],
    backward: ({ e, node, g }) => [convInputGrad(e, node, g[0]!, node.input[1])],
  },
  ConvTranspose: {
    diff: [0],
    backward: ({ e, node, g }) => [convTransposeInputGrad(e, node, g[0]!)],
  },
  Gemm: {
    diff: [0, 1, 2],
    backward: ({ e, node, g, wants }) => {
      const gy = g[0]!;
      const out: (string | undefined)[] = [undefined, undefined, undefined];
      if (wants[0]) out[0] = gemmInputGrad(e, node, gy, node.input[1]);
      if (wants[1]) {
        const transA = attrInt(node, 'transA', 0);
        const alpha = floatAttr(attrFloat(node, 'alpha', 1));
        out[1] = attrInt(node, 'transB', 0)
          ? e.op('Gemm', [gy, node.input[0]], { alpha, transA: 1, transB: transA })
          : e.op('Gemm', [node.input[0], gy], { alpha, transA: transA ? 0 : 1 });
      }
      if (wants[2] && node.input[2]) {
        out[2] = e.unbroadcast(e.mul(gy, e.f32(attrFloat(node, 'beta', 1))), node.input[2], node.output[0]);
      }
      return out;
    },
  },
  MatMul: {
    diff: [0, 1],
    backward: ({ e, node, g, wants }) => matmulGrads(e, node, g[0]!, wants),
  },
};
