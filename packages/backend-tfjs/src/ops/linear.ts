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

/** Explicit NHWC padding, as tfjs convolutions take it. @internal */
export type ExplicitPadding = [[0, 0], [number, number], [number, number], [0, 0]];

/**
 * `d` stride-dilated and framed by `top`, `bottom`, `left`, `right` zero rows and columns
 * (negative amounts crop), as a tensor and the non-negative padding a convolution should still
 * apply. XNNPACK pads implicitly at no cost, while wasm's PadV2 copies and its Slice of a
 * non-contiguous block is a per-element JavaScript loop, so as little as possible is materialised:
 * zeros are inserted with two pads along the last axis of flat views (each zero row or column
 * lands after its data row or column, so the last s − 1 of them stand in for bottom/right frame).
 * @internal
 */
export function framed(
  d: tf.Tensor4D,
  sh: number,
  sw: number,
  top: number,
  bottom: number,
  left: number,
  right: number,
): { x: tf.Tensor4D; pad: ExplicitPadding } {
  let x = d;
  let [b, r] = [bottom, right];
  if (sh > 1 || sw > 1) {
    const [n, h, w, c] = d.shape;
    const cols =
      sw === 1
        ? d
        : tf.pad(d.reshape([n * h * w, c]), [
            [0, 0],
            [0, (sw - 1) * c],
          ]);
    const rows =
      sh === 1
        ? cols
        : tf.pad(cols.reshape([n * h, w * sw * c]), [
            [0, 0],
            [0, (sh - 1) * w * sw * c],
          ]);
    x = rows.reshape([n, h * sh, w * sw, c]);
    b -= sh - 1;
    r -= sw - 1;
  }
  if (top < 0 || b < 0 || left < 0 || r < 0)
    x = padOrCrop(x, Math.min(top, 0), Math.min(b, 0), Math.min(left, 0), Math.min(r, 0));
  return {
    x,
    pad: [
      [0, 0],
      [Math.max(top, 0), Math.max(b, 0)],
      [Math.max(left, 0), Math.max(r, 0)],
      [0, 0],
    ],
  };
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

/** How `linearVjp` computes a convolution's input-gradient (`auto` picks per layer). @internal */
export type ConvVjpStrategy = 'auto' | 'rotated' | 'phases' | 'columns';

/**
 * `Wᵀ dy`: the input-gradient of `linearForward` with weights `w`, for an input of shape
 * `xShape`. tfjs-wasm's own Conv2DBackpropInput is a plain loop, several times slower than a
 * forward convolution, and it has no depthwise input-gradient at all, so convolutions take one of
 * three routes built from kernels XNNPACK runs:
 *
 * - `rotated`: a forward convolution of the stride-dilated, padded cotangent with the kernel
 *   rotated by 180° (channels swapped).
 * - `phases` (strided square convolutions): the input positions of one stride phase see a fixed
 *   subset of the kernel taps, so one stride-1 convolution of the cotangent with all phases'
 *   sub-kernels stacked on the output channels, followed by a depth-to-space shuffle, gives the
 *   whole gradient. Unlike `rotated` it never multiplies the zeros a stride dilation inserts (4×
 *   fewer multiplications at stride 2), and a 1×1 kernel needs no convolution over zeros at all.
 * - `columns`: `W · dyᵀ` as one matrix product giving every tap's contribution, summed back into
 *   place (col2im). The kernel is read as stored, so nothing of the size of the kernel is
 *   rearranged or re-packed per call: the right choice for deep layers whose kernels are much
 *   larger than their activations (a fresh rotated kernel costs XNNPACK a re-packing each call).
 *
 * `auto` picks `columns` when the kernel outweighs the columns it produces, else `phases` for
 * strides above 1, else `rotated`.
 * @internal
 */
export function linearVjp(
  g: LinearGeometry,
  dy: tf.Tensor,
  w: tf.Tensor,
  xShape: readonly number[],
  strategy: ConvVjpStrategy = 'auto',
): tf.Tensor {
  return tf.tidy(() => {
    if (g.kind === 'dense') {
      const outF = (w.shape as number[])[1];
      const flat = dy.rank === 2 ? (dy as tf.Tensor2D) : dy.reshape([-1, outF]);
      return tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D, false, true).reshape(xShape as number[]);
    }
    const d = dy as tf.Tensor4D;
    const w4 = w as tf.Tensor4D;
    if (g.kind === 'depthwise') return rotatedVjp(g, d, w4, xShape);
    const route = strategy === 'auto' ? pickConvVjp(g, d.shape, w4.shape) : strategy;
    if (route === 'columns') return columnsVjp(g, d, w4, xShape);
    if (route === 'phases' && phasesApply(g)) return phasesVjp(g, d, w4, xShape);
    return rotatedVjp(g, d, w4, xShape);
  });
}

/** Whether the phase decomposition covers a geometry: equal strides above 1, no dilation. */
function phasesApply(g: LinearGeometry): boolean {
  const [sh, sw] = g.strides;
  return sh === sw && sh > 1 && g.dilations[0] === 1 && g.dilations[1] === 1;
}

/**
 * The route `auto` takes. `columns` writes taps·I values per output position and saves work of
 * the order of the kernel's size (taps·I·O: its rotation, transposition and XNNPACK packing), so
 * it wins when the output positions OH·OW of an item are few next to the output channels O. Measured on
 * tfjs-wasm with ResNet-18's 3×3 layers: at 7² (O = 512) `columns` takes about a quarter of
 * `rotated`'s time, at 14² (O = 256) about half, at 28² (O = 128) it is slower.
 */
function pickConvVjp(
  g: LinearGeometry,
  dyShape: readonly number[],
  wShape: readonly number[],
): ConvVjpStrategy {
  // Decided per item, never on the batch size: the routes round differently, and a map must not
  // depend on how many rows share a call (ADR 0003; measured batch sizes vary from run to run).
  const [, oh, ow, o] = dyShape;
  const [kh, kw] = wShape;
  if (kh * kw > 1 && oh * ow <= o) return 'columns';
  return phasesApply(g) ? 'phases' : 'rotated';
}

/** `w` (kH×kW×A×B) rotated by 180° with its two channel axes swapped: kH×kW×B×A. */
function rotateSwap(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, a, b] = w.shape;
  const taps = kh * kw;
  if (taps === 1) return w.transpose([0, 1, 3, 2]);
  // 180° rotation = reversing the flattened kH·kW index: a tiny permutation-matrix product,
  // which XNNPACK runs far faster than wasm's Reverse or Gather kernels.
  const flip = tf.reverse(tf.eye(taps), [0]);
  return tf
    .matMul(flip, w.reshape([taps, -1]))
    .reshape([kh, kw, a, b])
    .transpose([0, 1, 3, 2]);
}

/** The `rotated` route (see `linearVjp`); also depthwise convolutions. */
function rotatedVjp(g: LinearGeometry, d: tf.Tensor4D, w: tf.Tensor4D, xShape: readonly number[]): tf.Tensor {
  const [kh, kw] = w.shape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  const [, inH, inW] = xShape;
  const [, outH, outW] = d.shape;
  const pt = padBefore(g.padding, inH, outH, sh, ekh);
  const pl = padBefore(g.padding, inW, outW, sw, ekw);
  const lh = (outH - 1) * sh + 1;
  const lw = (outW - 1) * sw + 1;
  const f = framed(d, sh, sw, ekh - 1 - pt, inH + pt - lh, ekw - 1 - pl, inW + pl - lw);
  if (g.kind === 'conv') return tf.conv2d(f.x, rotateSwap(w), 1, f.pad, 'NHWC', [dh, dw]);
  const [, , c, m] = w.shape;
  const taps = kh * kw;
  const flip = tf.reverse(tf.eye(taps), [0]);
  const rotated = tf.matMul(flip, w.reshape([taps, -1]));
  const kernel = rotated.reshape([kh, kw, c * m, 1]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(f.x, kernel, 1, f.pad, 'NHWC', [dh, dw]);
  return m === 1
    ? out
    : out
        .reshape([xShape[0] * inH * inW * c, m])
        .sum(-1)
        .reshape([xShape[0], inH, inW, c]);
}

/**
 * The `phases` route (see `linearVjp`), for stride s in both axes. Input row i = q·s + r − pt
 * (phase r) receives dy[q − k]·W[r + s·k] for k = 0…⌈(kH − r)/s⌉ − 1: a stride-1 correlation of
 * the cotangent with the phase's taps in reverse order. Padding the kernel to s·K rows (K =
 * ⌈kH/s⌉) gives every phase K taps (the missing ones zero), so one convolution computes all s²
 * phases at once, as output channels ordered (row phase, column phase, input channel); a
 * transpose interleaves them back into rows and columns (a depth-to-space shuffle).
 */
function phasesVjp(g: LinearGeometry, d: tf.Tensor4D, w: tf.Tensor4D, xShape: readonly number[]): tf.Tensor {
  const [kh, kw, ci, co] = w.shape;
  const s = g.strides[0];
  const [n, outH, outW] = d.shape;
  const [, inH, inW] = xShape;
  const pt = padBefore(g.padding, inH, outH, s, kh);
  const pl = padBefore(g.padding, inW, outW, s, kw);
  // Phase grid: assembled row j = (q − q0)·s + r holds input row i = j − j0.
  const q0h = Math.floor(pt / s);
  const q0w = Math.floor(pl / s);
  const j0h = pt - q0h * s;
  const j0w = pl - q0w * s;
  const qh = Math.ceil((j0h + inH) / s);
  const qw = Math.ceil((j0w + inW) / s);
  const kmh = Math.ceil(kh / s);
  const kmw = Math.ceil(kw / s);
  const f = framed(d, 1, 1, kmh - 1 - q0h, q0h + qh - outH, kmw - 1 - q0w, q0w + qw - outW);
  let dx: tf.Tensor4D;
  if (kh === 1 && kw === 1) {
    // Only phase (0, 0) has a tap: a 1×1 convolution, then zeros inserted after each row and column.
    const z = tf.conv2d(f.x, w.transpose([0, 1, 3, 2]) as tf.Tensor4D, 1, f.pad);
    dx = framed(z, s, s, 0, s - 1, 0, s - 1).x;
  } else {
    // kernel[m', r] = W[r + s·(K − 1 − m')]: pad to s·K taps, split taps into (m, r), reverse m.
    const wp = tf.pad(w, [
      [0, s * kmh - kh],
      [0, s * kmw - kw],
      [0, 0],
      [0, 0],
    ]);
    // [m_h, r_h, m_w, (r_w, I), O] → [m_h, m_w, O, r_h, (r_w, I)]: rank 5, which wasm transposes natively.
    const split = wp.reshape([kmh, s, kmw, s * ci, co]).transpose([0, 2, 4, 1, 3]);
    const taps = kmh * kmw;
    const flat = split.reshape([taps, co * s * s * ci]);
    const flipped = taps === 1 ? flat : tf.matMul(tf.reverse(tf.eye(taps), [0]), flat);
    const kernel = flipped.reshape([kmh, kmw, co, s * s * ci]) as tf.Tensor4D;
    const phases = tf.conv2d(f.x, kernel, 1, f.pad);
    // [N·Q_h, Q_w, r_h, r_w, I] → [N·Q_h, r_h, Q_w, r_w, I] = rows q·s + r_h, columns q'·s + r_w.
    dx = phases
      .reshape([n * qh, qw, s, s, ci])
      .transpose([0, 2, 1, 3, 4])
      .reshape([n, qh * s, qw * s, ci]);
  }
  return padOrCrop(dx, -j0h, inH - (qh * s - j0h), -j0w, inW - (qw * s - j0w));
}

/** One-hot depthwise kernels (kH×kW×(C·taps)×1) that shift channel (c, t) by the rotated tap t. */
function tapKernel(kh: number, kw: number, c: number): tf.Tensor4D {
  const taps = kh * kw;
  const data = new Float32Array(taps * c * taps);
  // Position (a', b') = rotation of tap t = (a, b): a' = kH − 1 − a, b' = kW − 1 − b.
  for (let t = 0; t < taps; t++) {
    const pos = taps - 1 - t;
    for (let ch = 0; ch < c; ch++) data[(pos * c + ch) * taps + t] = 1;
  }
  return tf.tensor4d(data, [kh, kw, c * taps, 1]);
}

/**
 * The `columns` route (see `linearVjp`): colsᵀ = W·dyᵀ (taps·I × N·OH·OW), on XNNPACK's
 * fully-connected kernel with the small cotangent as its packed operand; then col2im, the sum of
 * every tap's slab shifted into place, as a depthwise convolution with one-hot kernels over the
 * (I, tap) channels (stride-dilated first) and a sum over taps.
 */
function columnsVjp(g: LinearGeometry, d: tf.Tensor4D, w: tf.Tensor4D, xShape: readonly number[]): tf.Tensor {
  const [kh, kw, ci, co] = w.shape;
  const [n, outH, outW] = d.shape;
  const [, inH, inW] = xShape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  const pt = padBefore(g.padding, inH, outH, sh, ekh);
  const pl = padBefore(g.padding, inW, outW, sw, ekw);
  const taps = kh * kw;
  const p = n * outH * outW;
  const colsT = tf.matMul(w.reshape([taps * ci, co]), d.reshape([p, co]).transpose());
  const cols = colsT
    .reshape([taps, ci, p])
    .transpose([2, 1, 0])
    .reshape([n, outH, outW, ci * taps]) as tf.Tensor4D;
  const lh = (outH - 1) * sh + 1;
  const lw = (outW - 1) * sw + 1;
  const f = framed(cols, sh, sw, ekh - 1 - pt, inH + pt - lh, ekw - 1 - pl, inW + pl - lw);
  const spread = tf.depthwiseConv2d(f.x, tapKernel(kh, kw, ci), 1, f.pad, 'NHWC', [dh, dw]);
  return spread
    .reshape([n * inH * inW * ci, taps])
    .sum(-1)
    .reshape([n, inH, inW, ci]);
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
