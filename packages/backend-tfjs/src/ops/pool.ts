import * as tf from '@tensorflow/tfjs';
import { type CustomGradientFunc, dilate, padBefore, padOrCrop } from './linear.js';

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
 */
function firstWinnerBackward(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow] = y.shape;
    const [kh, kw] = g.size;
    const [sh, sw] = g.strides;
    const pt = padBefore(g.padding, h, oh, sh, kh);
    const pl = padBefore(g.padding, w, ow, sw, kw);
    const ph = Math.max((oh - 1) * sh + kh, h + pt);
    const pw = Math.max((ow - 1) * sw + kw, w + pl);
    // Padding never wins: pad with −∞.
    const padded = tf.pad(
      x,
      [
        [0, 0],
        [pt, ph - h - pt],
        [pl, pw - w - pl],
        [0, 0],
      ],
      Number.NEGATIVE_INFINITY,
    );
    let taken = tf.zeros([n, oh, ow, c], 'bool');
    let grad: tf.Tensor4D = tf.zeros([n, ph, pw, c]);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const view = tf.stridedSlice(
          padded,
          [0, i, j, 0],
          [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c],
          [1, sh, sw, 1],
        );
        const wins = tf.logicalAnd(tf.equal(view, y), tf.logicalNot(taken));
        taken = tf.logicalOr(taken, wins);
        const share = tf.where(wins, dy, tf.zerosLike(dy)) as tf.Tensor4D;
        const spread = dilate(share, sh, sw);
        grad = tf.add(grad, padOrCrop(spread, i, ph - i - spread.shape[1], j, pw - j - spread.shape[2]));
      }
    }
    return tf.slice(grad, [0, pt, pl, 0], [n, h, w, c]);
  });
}

/** Max-pooling with first-winner gradients. @internal */
export function maxPoolFirstWinner(x: tf.Tensor, g: PoolGeometry): tf.Tensor {
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
        firstWinnerBackward(xs as tf.Tensor4D, ys as tf.Tensor4D, dy as tf.Tensor4D, g),
    };
  }) as unknown as CustomGradientFunc);
  return op(x);
}
