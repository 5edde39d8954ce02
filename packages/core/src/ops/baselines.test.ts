import { describe, expect, it } from 'vitest';
import { fromFunction } from '../function-model.js';
import { memoryFiles } from '../io/files.js';
import { serializeNpy } from '../io/npy.js';
import type { Layout, ModelInfo } from '../model.js';
import type { Tensor } from '../tensor.js';
import { randomTensor } from '../testing/compare.js';
import { checkBaseline, isBaselinePath, makeBaseline } from './baselines.js';
import { gaussianBlur } from './blur.js';
import { createRng } from './random.js';

const modelOf = (inputShape: number[], layout: Layout, inputRange?: ModelInfo['inputRange']) =>
  fromFunction((x) => new Float32Array(x.shape[0]), { inputShape, layout, numClasses: 1, inputRange });

describe('makeBaseline', () => {
  const nchw = modelOf([3, 4, 4], 'NCHW', [-1, 2]);
  const x = randomTensor([2, 3, 4, 4], 5);

  it('builds zero, a constant, black and white', () => {
    expect(makeBaseline('zero', nchw, x).data.every((v) => v === 0)).toBe(true);
    expect(makeBaseline(0.25, nchw, x).data.every((v) => v === 0.25)).toBe(true);
    expect(makeBaseline('black', nchw, x).data.every((v) => v === -1)).toBe(true);
    expect(makeBaseline('white', nchw, x)).toEqual({
      data: new Float32Array(96).fill(2),
      shape: [2, 3, 4, 4],
    });
  });

  it('takes black and white per channel in either layout', () => {
    const range = [
      [0, 1],
      [0, 2],
      [0, 3],
    ] as const;
    const nhwc = modelOf([4, 4, 3], 'NHWC', range);
    const white = makeBaseline('white', nhwc, randomTensor([1, 4, 4, 3], 6));
    expect(Array.from(white.data.subarray(0, 6))).toEqual([1, 2, 3, 1, 2, 3]);
    const first = makeBaseline('white', modelOf([3, 4, 4], 'NCHW', range), x);
    expect([first.data[0], first.data[16], first.data[32], first.data[48]]).toEqual([1, 2, 3, 1]);
  });

  it('takes each item’s per-channel mean', () => {
    const nhwc = modelOf([4, 4, 3], 'NHWC');
    const xi = randomTensor([2, 4, 4, 3], 7, 0, 1);
    const mean = makeBaseline('mean', nhwc, xi);
    const m1 = xi.data.filter((_, j) => j >= 48 && j % 3 === 1).reduce((a, b) => a + b, 0) / 16;
    expect(mean.data[48 + 1]).toBeCloseTo(m1, 5);
    expect(mean.data[48 + 7 * 3 + 1]).toBeCloseTo(m1, 5);
    const dense = makeBaseline('mean', modelOf([5], 'NCHW'), {
      data: Float32Array.from([1, 2, 3, 4, 5]),
      shape: [1, 5],
    });
    expect(Array.from(dense.data)).toEqual([3, 3, 3, 3, 3]);
  });

  it('blurs with gaussianBlur and blurSigma, which smooths', () => {
    const blurred = makeBaseline('blur', nchw, x, { blurSigma: 2 });
    expect(blurred).toEqual(gaussianBlur(x, 2, 'NCHW'));
    const variance = (t: Tensor) => {
      const mu = t.data.reduce((a, b) => a + b, 0) / t.data.length;
      return t.data.reduce((a, b) => a + (b - mu) ** 2, 0);
    };
    expect(variance(blurred)).toBeLessThan(variance(x) / 4);
    expect(() => makeBaseline('blur', nchw, x)).toThrow(/needs blurSigma/);
  });

  it('draws uniform values in inputRange from the caller’s rng', () => {
    const a = makeBaseline('uniform', nchw, x, { rng: createRng(3, 1) });
    expect(a).toEqual(makeBaseline('uniform', nchw, x, { rng: createRng(3, 1) }));
    expect(a).not.toEqual(makeBaseline('uniform', nchw, x, { rng: createRng(4, 1) }));
    expect(a.data.every((v) => v >= -1 && v < 2)).toBe(true);
    // One draw shared by every item, so an item's baseline does not depend on its batch.
    expect(a.data.subarray(48)).toEqual(a.data.subarray(0, 48));
    const alone = makeBaseline(
      'uniform',
      nchw,
      { data: x.data.subarray(0, 48), shape: [1, 3, 4, 4] },
      { rng: createRng(3, 1) },
    );
    expect(alone.data).toEqual(a.data.subarray(0, 48));
    expect(() => makeBaseline('uniform', nchw, x)).toThrow(/needs an rng/);
  });

  it('broadcasts one item, or takes the whole batch, from a tensor or a .npy file', () => {
    const item = randomTensor([3, 4, 4], 8);
    const broadcast = makeBaseline(item, nchw, x);
    expect(broadcast.data.subarray(48)).toEqual(item.data);
    expect(makeBaseline({ data: item.data, shape: [1, 3, 4, 4] }, nchw, x)).toEqual(broadcast);
    expect(makeBaseline(x, nchw, x)).toEqual(x);
    const files = memoryFiles({ 'base.NPY': serializeNpy(item) });
    expect(makeBaseline('base.NPY', nchw, x, { files })).toEqual(broadcast);
  });
});

describe('checkBaseline', () => {
  const bare = modelOf([3, 4, 4], 'NCHW');
  const x = randomTensor([2, 3, 4, 4], 9);

  it('refuses unknown names, non-finite numbers and tensors, and wrong shapes, before compute', () => {
    expect(() => checkBaseline('grey', bare, x)).toThrow(
      /baseline = "grey" is invalid; expected one of zero, black, white, blur, uniform, mean, a number, a path to a \.npy file or a tensor/,
    );
    expect(() => checkBaseline(Number.NaN, bare, x)).toThrow(/baseline = NaN is not a finite number/);
    const wrong = { data: new Float32Array(48), shape: [4, 4, 3] };
    expect(() => checkBaseline(wrong, bare, x)).toThrow(
      expect.objectContaining({
        code: 'invalid-shape',
        message: expect.stringMatching(/shape \[4, 4, 3\]; expected \[3, 4, 4\]/),
      }),
    );
    const three = { data: new Float32Array(144), shape: [3, 3, 4, 4] };
    expect(() => checkBaseline(three, bare, x)).toThrow(/shape \[3, 3, 4, 4\]/);
    const nan = { data: new Float32Array(48).fill(Number.NaN), shape: [3, 4, 4] };
    expect(() => checkBaseline(nan, bare, x)).toThrow(expect.objectContaining({ code: 'non-finite-input' }));
  });

  it('needs inputRange for black, white and uniform, and images for blur', () => {
    for (const name of ['black', 'white', 'uniform'])
      expect(() => checkBaseline(name, bare, x)).toThrow(/needs model\.info\.inputRange/);
    const twoPairs = modelOf([3, 4, 4], 'NCHW', [
      [0, 1],
      [0, 1],
    ]);
    expect(() => checkBaseline('black', twoPairs, x)).toThrow(
      /2 per-channel pairs but the input has 3 channel/,
    );
    expect(() => checkBaseline('white', modelOf([3, 4, 4], 'NCHW', [2, 1]), x)).toThrow(/low ≤ high/);
    expect(() => checkBaseline('blur', modelOf([5], 'NCHW'), randomTensor([1, 5], 1))).toThrow(
      /baseline blur needs image batches \(rank 4\)/,
    );
    expect(() => checkBaseline('zero', bare, x)).not.toThrow();
    expect(() => checkBaseline('mean', bare, x)).not.toThrow();
  });

  it('reads a path through the FileSource, and asks for one when missing', () => {
    expect(isBaselinePath('a/b.npy')).toBe(true);
    expect(isBaselinePath('blur')).toBe(false);
    expect(() => checkBaseline('b.npy', bare, x)).toThrow(
      /baseline file "b\.npy" is a path, and reading files needs a FileSource/,
    );
    const files = memoryFiles({
      'ok.npy': serializeNpy(randomTensor([3, 4, 4], 1)),
      'bad.npy': serializeNpy(randomTensor([4, 4, 3], 1)),
    });
    expect(() => checkBaseline('ok.npy', bare, x, files)).not.toThrow();
    expect(() => checkBaseline('bad.npy', bare, x, files)).toThrow(
      /baseline file bad\.npy has shape \[4, 4, 3\]; expected \[3, 4, 4\]/,
    );
    expect(() => checkBaseline('gone.npy', bare, x, files)).toThrow(
      expect.objectContaining({
        code: 'invalid-file',
        message: expect.stringMatching(/baseline file: cannot read gone\.npy/),
      }),
    );
  });
});
