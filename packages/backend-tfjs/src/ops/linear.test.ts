import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, randomTensor, tfOf, useWasm } from '../../test/helpers.js';
import { type ConvVjpStrategy, type LinearGeometry, linearForward, linearVjp } from './linear.js';

beforeAll(useWasm);

interface Case {
  readonly kind: 'conv' | 'depthwise';
  readonly x: number[];
  readonly w: number[];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilations?: [number, number];
}

const cases: Case[] = [
  { kind: 'conv', x: [2, 7, 6, 3], w: [3, 3, 3, 4], strides: [1, 1], padding: 'same' },
  { kind: 'conv', x: [1, 7, 6, 3], w: [3, 3, 3, 4], strides: [1, 1], padding: 'valid' },
  { kind: 'conv', x: [1, 9, 8, 2], w: [3, 3, 2, 5], strides: [2, 2], padding: 'same' },
  { kind: 'conv', x: [1, 9, 8, 2], w: [3, 2, 2, 5], strides: [2, 3], padding: 'valid' },
  { kind: 'conv', x: [1, 10, 10, 3], w: [7, 7, 3, 4], strides: [2, 2], padding: 'same' },
  { kind: 'conv', x: [1, 8, 8, 4], w: [1, 1, 4, 6], strides: [2, 2], padding: 'same' },
  { kind: 'conv', x: [1, 9, 9, 2], w: [3, 3, 2, 3], strides: [1, 1], padding: 'same', dilations: [2, 2] },
  { kind: 'conv', x: [2, 11, 9, 3], w: [3, 3, 3, 4], strides: [2, 2], padding: 'valid' },
  { kind: 'conv', x: [1, 11, 12, 2], w: [5, 4, 2, 3], strides: [3, 3], padding: 'same' },
  { kind: 'conv', x: [1, 9, 9, 3], w: [1, 1, 3, 5], strides: [2, 2], padding: 'valid' },
  { kind: 'conv', x: [1, 6, 7, 3], w: [2, 2, 3, 4], strides: [2, 2], padding: 'same' },
  { kind: 'depthwise', x: [2, 7, 7, 3], w: [3, 3, 3, 1], strides: [1, 1], padding: 'same' },
  { kind: 'depthwise', x: [1, 8, 8, 3], w: [3, 3, 3, 2], strides: [2, 2], padding: 'same' },
  { kind: 'depthwise', x: [1, 8, 7, 2], w: [3, 3, 2, 2], strides: [1, 1], padding: 'valid' },
];

/** tfjs's own input-gradient, on the cpu backend (wasm has no depthwise input-gradient kernel). */
async function reference(c: Case, x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor): Promise<Float32Array> {
  await tf.setBackend('cpu');
  try {
    return tf.tidy(() => {
      // tfjs has no gradient for dilated convs: use the equivalent kernel with zeros inserted.
      const d = c.dilations ?? [1, 1];
      const [kh, kw, i, o] = w.shape;
      const wd =
        d[0] === 1 && d[1] === 1
          ? w
          : tf
              .pad(w.reshape([kh, 1, kw, 1, i * o]), [
                [0, 0],
                [0, d[0] - 1],
                [0, 0],
                [0, d[1] - 1],
                [0, 0],
              ])
              .reshape([kh * d[0], kw * d[1], i, o])
              .slice([0, 0, 0, 0], [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, i, o]);
      const f = (xx: tf.Tensor) =>
        c.kind === 'conv'
          ? tf.conv2d(xx as tf.Tensor4D, wd as tf.Tensor4D, c.strides, c.padding)
          : tf.depthwiseConv2d(xx as tf.Tensor4D, wd as tf.Tensor4D, c.strides, c.padding);
      return tf.grad(f)(x, dy).dataSync() as Float32Array;
    });
  } finally {
    await tf.setBackend('wasm');
  }
}

describe('linearVjp (input-gradient by rotated kernel, stride phases or columns)', () => {
  for (const c of cases) {
    it(`${c.kind} x=[${c.x}] w=[${c.w}] strides ${c.strides} ${c.padding}${c.dilations ? ' dilated' : ''} equals tfjs's gradient on every route`, async () => {
      const g: LinearGeometry = {
        kind: c.kind,
        strides: c.strides,
        dilations: c.dilations ?? [1, 1],
        padding: c.padding,
      };
      const x = tfOf(randomTensor(c.x, 3));
      const w = tfOf(randomTensor(c.w, 4));
      const y = linearForward(g, x, w, null);
      const dy = tfOf(randomTensor(y.shape, 5));
      const want = await reference(c, x, w, dy);
      const strategies: ConvVjpStrategy[] =
        c.kind === 'conv' ? ['auto', 'rotated', 'phases', 'columns'] : ['auto'];
      for (const strategy of strategies) {
        const before = tf.memory().numTensors;
        const mine = linearVjp(g, dy, w, x.shape, strategy);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(mine.shape).toEqual(x.shape);
        expectClose(await mine.data(), want, 1e-5);
        mine.dispose();
      }
      tf.dispose([x, w, y, dy]);
    });
  }

  it('dense on a rank-3 input equals dy Wᵀ per position', async () => {
    const g: LinearGeometry = { kind: 'dense', strides: [1, 1], dilations: [1, 1], padding: 'valid' };
    const w = tfOf(randomTensor([4, 3], 2));
    const dy = tfOf(randomTensor([2, 5, 3], 3));
    const got = linearVjp(g, dy, w, [2, 5, 4]);
    const want = tf.matMul(dy.reshape([10, 3]), w, false, true);
    expectClose(await got.data(), await want.data(), 1e-6);
    tf.dispose([w, dy, got, want]);
  });
});
