import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, randomTensor, tfOf, useWasm } from '../../test/helpers.js';
import { maxPoolFirstWinner, type PoolGeometry } from './pool.js';

beforeAll(useWasm);

/** Plain-loop max-pool backward (NHWC), ties to the first maximum in row-major window order. */
function loopBackward(
  x: Float32Array,
  [n, h, w, c]: number[],
  dy: Float32Array,
  g: PoolGeometry,
  oh: number,
  ow: number,
  pt: number,
  pl: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < g.size[0]; i++)
            for (let j = 0; j < g.size[1]; j++) {
              const y = oy * g.strides[0] + i - pt;
              const xx = ox * g.strides[1] + j - pl;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              const idx = ((b * h + y) * w + xx) * c + ch;
              if (x[idx] > best) {
                best = x[idx];
                at = idx;
              }
            }
          out[at] += dy[((b * oh + oy) * ow + ox) * c + ch];
        }
  return out;
}

describe('maxPoolFirstWinner', () => {
  it('routes the gradient of an all-tied window to its first element', async () => {
    const x = tf.zeros([1, 2, 2, 1]);
    const g = tf.grad((t: tf.Tensor) =>
      maxPoolFirstWinner(t, { size: [2, 2], strides: [2, 2], padding: 'valid' }),
    )(x, tf.ones([1, 1, 1, 1]));
    expect(Array.from(await g.data())).toEqual([1, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  for (const g of [
    { size: [2, 2], strides: [2, 2], padding: 'valid' },
    { size: [3, 3], strides: [2, 2], padding: 'same' },
    { size: [3, 2], strides: [1, 2], padding: 'valid' },
    { size: [3, 3], strides: [3, 3], padding: 'valid' },
    { size: [2, 3], strides: [2, 3], padding: 'valid' },
    // Overlapping windows with equal strides go through the phase scatter.
    { size: [3, 3], strides: [2, 2], padding: 'valid' },
    { size: [3, 3], strides: [1, 1], padding: 'same' },
    { size: [5, 4], strides: [2, 2], padding: 'same' },
    { size: [4, 4], strides: [3, 3], padding: 'same' },
  ] as PoolGeometry[]) {
    it(`matches a loop reference with ties (size ${g.size}, strides ${g.strides}, ${g.padding})`, async () => {
      const shape = [2, 7, 6, 3];
      // Rounded values make ties common, as after a ReLU.
      const xs = randomTensor(shape, 7);
      const xr = Float32Array.from(xs.data, (v) => Math.max(0, Math.round(v * 2)));
      const x = tf.tensor(xr, shape);
      const y = tf.maxPool(
        x as tf.Tensor4D,
        g.size as [number, number],
        g.strides as [number, number],
        g.padding,
      );
      const dy = tfOf(randomTensor(y.shape, 9));
      const got = tf.grad((t: tf.Tensor) => maxPoolFirstWinner(t, g))(x, dy);
      const [oh, ow] = [y.shape[1], y.shape[2]];
      const pt =
        g.padding === 'same' ? Math.floor(Math.max(0, (oh - 1) * g.strides[0] + g.size[0] - 7) / 2) : 0;
      const pl =
        g.padding === 'same' ? Math.floor(Math.max(0, (ow - 1) * g.strides[1] + g.size[1] - 6) / 2) : 0;
      expectClose(
        await got.data(),
        loopBackward(xr, shape, (await dy.data()) as Float32Array, g, oh, ow, pt, pl),
        1e-6,
      );
      tf.dispose([x, y, dy, got]);
    });
  }
});
