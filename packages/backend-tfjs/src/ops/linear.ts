import * as tf from '@tensorflow/tfjs';

/**
 * The linear layers the interpreter runs itself (so that rules can replace their backward), in
 * tfjs's own layouts: conv kernels `kH×kW×I×O`, depthwise kernels `kH×kW×C×M`, dense `in×out`.
 * @internal
 */
export type LinearKind = 'conv' | 'depthwise' | 'dense';

/** Geometry of a convolution (unused for dense). @internal */
export interface LinearGeometry {
  readonly kind: LinearKind;
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

/** The argument type of `tf.customGrad` (tfjs does not export it by name). @internal */
export type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/** `W x + b` (bias may be null). @internal */
export function linearForward(g: LinearGeometry, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    let z: tf.Tensor;
    if (g.kind === 'dense') {
      const inF = (w.shape as number[])[0];
      const flat = x.rank === 2 ? (x as tf.Tensor2D) : x.reshape([-1, inF]);
      z = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D);
      if (x.rank !== 2) z = z.reshape([...x.shape.slice(0, -1), (w.shape as number[])[1]]);
    } else {
      const conv = g.kind === 'conv' ? tf.conv2d : tf.depthwiseConv2d;
      z = conv(
        x as tf.Tensor4D,
        w as tf.Tensor4D,
        g.strides as [number, number],
        g.padding,
        'NHWC',
        g.dilations as [number, number],
      );
    }
    return b ? tf.add(z, b) : z;
  });
}

/** Stretch `[N, H, W, C]` by inserting `s − 1` zeros between rows/columns (stride dilation). @internal */
export function dilate(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = dy.reshape([n * h, 1, w, 1 * c]).pad([
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, 0],
  ]);
  // rows: [N·H, sh, W, C] → [N, H·sh, W, C]; then the same for columns.
  const rows = spread.reshape([n, h * sh, w, c]).slice([0, 0, 0, 0], [n, (h - 1) * sh + 1, w, c]);
  const hh = (h - 1) * sh + 1;
  const cols = rows.reshape([n * hh * w, 1, c]).pad([
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return cols.reshape([n, hh, w * sw, c]).slice([0, 0, 0, 0], [n, hh, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** Zero-pad (or crop, for negative amounts) the two spatial axes. @internal */
export function padOrCrop(
  t: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  let x = t;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    x = x.pad([
      [0, 0],
      [Math.max(top, 0), Math.max(bottom, 0)],
      [Math.max(left, 0), Math.max(right, 0)],
      [0, 0],
    ]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = x.shape;
    const t0 = Math.max(-top, 0);
    const l0 = Math.max(-left, 0);
    x = x.slice([0, t0, l0, 0], [n, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c]);
  }
  return x;
}

/** Padding tfjs puts before the first row/column for `same` (it puts the odd one after). @internal */
export function padBefore(
  padding: 'same' | 'valid',
  inSize: number,
  outSize: number,
  stride: number,
  effKernel: number,
): number {
  if (padding === 'valid') return 0;
  return Math.floor(Math.max(0, (outSize - 1) * stride + effKernel - inSize) / 2);
}

/**
 * `Wᵀ dy`: the input-gradient of `linearForward` with weights `w`, for an input of shape
 * `xShape`. Convolutions are computed as a forward convolution of the stride-dilated, padded
 * cotangent with the kernel rotated by 180° (channels swapped): tfjs-wasm runs that with XNNPACK,
 * several times faster than its own Conv2DBackpropInput, and it has no depthwise input-gradient.
 * @internal
 */
export function linearVjp(
  g: LinearGeometry,
  dy: tf.Tensor,
  w: tf.Tensor,
  xShape: readonly number[],
): tf.Tensor {
  return tf.tidy(() => {
    if (g.kind === 'dense') {
      const outF = (w.shape as number[])[1];
      const flat = dy.rank === 2 ? (dy as tf.Tensor2D) : dy.reshape([-1, outF]);
      return tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D, false, true).reshape(xShape as number[]);
    }
    const [kh, kw] = w.shape as number[];
    const [sh, sw] = g.strides;
    const [dh, dw] = g.dilations;
    const ekh = (kh - 1) * dh + 1;
    const ekw = (kw - 1) * dw + 1;
    const [, inH, inW] = xShape;
    const d = dy as tf.Tensor4D;
    const [, outH, outW] = d.shape;
    const pt = padBefore(g.padding, inH, outH, sh, ekh);
    const pl = padBefore(g.padding, inW, outW, sw, ekw);
    const spread = dilate(d, sh, sw);
    const lh = (outH - 1) * sh + 1;
    const lw = (outW - 1) * sw + 1;
    const padded = padOrCrop(spread, ekh - 1 - pt, inH + pt - lh, ekw - 1 - pl, inW + pl - lw);
    // 180° rotation = reversing the flattened kH·kW index: a tiny permutation-matrix product,
    // which XNNPACK runs far faster than wasm's Reverse or Gather kernels.
    const taps = kh * kw;
    const flip = tf.tidy(() => tf.reverse(tf.eye(taps), [0]));
    const rotated = tf.matMul(flip, w.reshape([taps, -1])).reshape(w.shape);
    if (g.kind === 'conv') {
      const kernel = rotated.transpose([0, 1, 3, 2]) as tf.Tensor4D;
      return tf.conv2d(padded, kernel, 1, 'valid', 'NHWC', [dh, dw]);
    }
    const [, , c, m] = w.shape as number[];
    const kernel = rotated.reshape([kh, kw, c * m, 1]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(padded, kernel, 1, 'valid', 'NHWC', [dh, dw]);
    return m === 1 ? out : out.reshape([xShape[0], inH, inW, c, m]).sum(-1);
  });
}

/** Everything a backward rule sees of one linear layer in one pass. @internal */
export interface LinearSaved {
  readonly x: tf.Tensor;
  readonly z: tf.Tensor;
  readonly w: tf.Tensor;
  readonly b: tf.Tensor | null;
}

/**
 * `linearForward` whose input-gradient is `backward(saved, dy)` (default: the ordinary one via
 * `linearVjp`). Weights are saved with the input because they may be per-call tensors (folded
 * BatchNorm) that the forward scope disposes before the backward pass runs.
 * @internal
 */
export function linearWithBackward(
  g: LinearGeometry,
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor | null,
  backward?: (saved: LinearSaved, dy: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const op = tf.customGrad(((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    const z = linearForward(g, xin, w, b);
    save(b ? [xin, z, w, b] : [xin, z, w]);
    return {
      value: z,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const s: LinearSaved = { x: saved[0], z: saved[1], w: saved[2], b: saved[3] ?? null };
        return backward ? backward(s, dy) : linearVjp(g, dy, s.w, s.x.shape);
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(x);
}
