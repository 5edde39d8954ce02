import * as tf from '@tensorflow/tfjs';
import {
  type CustomGradientFunc,
  framed,
  type LinearGeometry,
  linearForward,
  linearVjp,
  padBefore,
  padOrCrop,
} from './linear.js';

/** Geometry of a 2-D max-pooling layer. @internal */
export interface PoolGeometry {
  readonly size: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

/**
 * `dy` routed to the first maximum of each window in row-major order (the PyTorch / reference
 * convention). tfjs's own MaxPoolGrad breaks ties differently, which matters after a ReLU, where
 * windows of equal zeros are common and rules such as DeconvNet pass signal through them.
 *
 * All window taps are read at once by a depthwise convolution with one-hot kernels (multiplier
 * kH·kW), the first maximum is found with a cumulative sum over the taps, and each tap's share
 * goes back to its input position. That scatter works on the stride phases of the (padded) input:
 * tap (a, b) lands in phase (a mod s, b mod s), shifted by (⌊a/s⌋, ⌊b/s⌋) phase rows and columns,
 * which a depthwise convolution with one-hot ⌈k/s⌉-sized kernels does for all taps at once; a
 * small matrix product then sums each phase's taps, and a transpose interleaves the phases. All
 * XNNPACK or native wasm kernels: no stride-dilated copy of the taps, and no JavaScript slicing.
 */
function firstWinnerBackward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow] = y.shape;
    const [kh, kw] = g.size;
    const [sh, sw] = g.strides;
    const taps = kh * kw;
    const pt = padBefore(g.padding, h, oh, sh, kh);
    const pl = padBefore(g.padding, w, ow, sw, kw);
    const ph = Math.max((oh - 1) * sh + kh, h + pt);
    const pw = Math.max((ow - 1) * sw + kw, w + pl);
    // Padding never wins; a finite pad keeps 0·pad = 0 inside the one-hot convolution.
    const padded = tf.pad(
      x,
      [
        [0, 0],
        [pt, ph - h - pt],
        [pl, pw - w - pl],
        [0, 0],
      ],
      -3.4e38,
    );
    const kernel = tf.tile(tf.eye(taps).reshape([kh, kw, 1, taps]), [1, 1, c, 1]);
    const geometry: LinearGeometry = {
      kind: 'depthwise',
      strides: [sh, sw],
      dilations: [1, 1],
      padding: 'valid',
    };
    const views = linearForward(geometry, padded, kernel, null);
    // Repeat y and dy per tap with a 1×1 depthwise conv: wasm's broadcasting binary ops are slow.
    const ones = tf.ones([1, 1, c, taps]);
    const repeat = (t: tf.Tensor) => linearForward({ ...geometry, strides: [1, 1] }, t, ones, null);
    const hits = tf.cast(tf.equal(views, repeat(y)), 'float32').reshape([n, oh, ow, c, taps]);
    const first = tf.mul(hits, tf.cast(tf.equal(tf.cumsum(hits, 4), 1), 'float32'));
    const shares = tf.mul(first.reshape([n, oh, ow, c * taps]), repeat(dy)) as tf.Tensor4D;
    if (sh !== sw) {
      const grad = linearVjp(geometry, shares, kernel, [n, ph, pw, c]);
      return tf.slice(grad, [0, pt, pl, 0], [n, h, w, c]) as tf.Tensor4D;
    }
    return scatterByPhase(shares, [n, h, w, c], [kh, kw], sh, pt, pl);
  });
}

/**
 * Sum the shares of every tap (channels (c, t) of `shares`, N×OH×OW) into the input positions
 * their windows read: padded row o·s + a for tap (a, b). See `firstWinnerBackward`.
 */
function scatterByPhase(
  shares: tf.Tensor4D,
  [n, h, w, c]: readonly number[],
  [kh, kw]: readonly number[],
  s: number,
  pt: number,
  pl: number,
): tf.Tensor4D {
  const [, oh, ow] = shares.shape;
  const taps = kh * kw;
  const kmh = Math.ceil(kh / s);
  const kmw = Math.ceil(kw / s);
  // Phase grid rows u = 0…U−1 cover padded rows u·s + r; the input starts at padded row pt.
  const uh = Math.ceil((pt + h) / s);
  const uw = Math.ceil((pl + w) / s);
  // Channel (c, t) moves by tap t's (⌊a/s⌋, ⌊b/s⌋): a one-hot kernel read with kmh − 1 rows of
  // zeros above (out[u] = in[u − ⌊a/s⌋]).
  const shift = new Float32Array(kmh * kmw * c * taps);
  const group = new Float32Array(taps * s * s);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const t = a * kw + b;
      const pos = (kmh - 1 - Math.floor(a / s)) * kmw + (kmw - 1 - Math.floor(b / s));
      for (let ch = 0; ch < c; ch++) shift[(pos * c + ch) * taps + t] = 1;
      group[t * s * s + (a % s) * s + (b % s)] = 1;
    }
  }
  const { x: src, pad } = framed(shares, 1, 1, kmh - 1, uh - oh, kmw - 1, uw - ow);
  const moved = tf.depthwiseConv2d(src, tf.tensor4d(shift, [kmh, kmw, c * taps, 1]), 1, pad);
  // Σ over the taps of each phase: [N·U·U·C, taps] × [taps, s²].
  const phases = tf.matMul(moved.reshape([n * uh * uw * c, taps]), tf.tensor2d(group, [taps, s * s]));
  // [N·U_h, U_w, C, r_h, r_w] → [N·U_h, r_h, U_w, r_w, C]: padded rows u·s + r_h.
  const grid = phases
    .reshape([n * uh, uw, c, s, s])
    .transpose([0, 3, 1, 4, 2])
    .reshape([n, uh * s, uw * s, c]) as tf.Tensor4D;
  return padOrCrop(grid, -pt, h + pt - uh * s, -pl, w + pl - uw * s);
}

/**
 * The same for non-overlapping windows (size = strides, valid padding), the common 2×2/2 case:
 * same-shape element-wise ops, nearest-neighbour upsampling and a native max-pool over
 * `hit × priority`, where priority falls in row-major window order.
 */
function tiledFirstWinnerBackward(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  g: PoolGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow] = y.shape;
    const [kh, kw] = g.size;
    const [hc, wc] = [oh * kh, ow * kw];
    const xc = hc === h && wc === w ? x : tf.slice(x, [0, 0, 0, 0], [n, hc, wc, c]);
    const up = (t: tf.Tensor4D) => tf.image.resizeNearestNeighbor(t, [hc, wc]);
    const priority = new Float32Array(hc * wc);
    for (let i = 0; i < hc; i++)
      for (let j = 0; j < wc; j++) priority[i * wc + j] = kh * kw - ((i % kh) * kw + (j % kw));
    const score = tf.mul(
      tf.cast(tf.equal(xc, up(y)), 'float32'),
      tf.tensor4d(priority, [1, hc, wc, 1]),
    ) as tf.Tensor4D;
    const best = tf.maxPool(score, [kh, kw], [kh, kw], 'valid');
    // Every window holds its maximum, so best ≥ 1 and the zero scores of non-hits never match it.
    const winner = tf.equal(score, up(best));
    const grad = tf.where(winner, up(dy), tf.zerosLike(xc)) as tf.Tensor4D;
    return hc === h && wc === w
      ? grad
      : tf.pad(grad, [
          [0, 0],
          [0, h - hc],
          [0, w - wc],
          [0, 0],
        ]);
  });
}

/** Max-pooling with first-winner gradients. @internal */
export function maxPoolFirstWinner(x: tf.Tensor, g: PoolGeometry): tf.Tensor {
  const tiled = g.padding === 'valid' && g.size[0] === g.strides[0] && g.size[1] === g.strides[1];
  const op = tf.customGrad(((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(
      xin as tf.Tensor4D,
      g.size as [number, number],
      g.strides as [number, number],
      g.padding,
    );
    save([xin, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ys]: tf.Tensor[]) =>
        (tiled ? tiledFirstWinnerBackward : firstWinnerBackward)(
          xs as tf.Tensor4D,
          ys as tf.Tensor4D,
          dy as tf.Tensor4D,
          g,
        ),
    };
  }) as unknown as CustomGradientFunc);
  return op(x);
}
