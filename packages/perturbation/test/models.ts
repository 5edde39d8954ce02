// Small black-box models with closed-form answers for the tests, all through core's `fromFunction`.
import { fromFunction, type Layout, type Model, type Tensor } from '@xlens/core';
import type { ToySpec } from '@xlens/core/testing';

/**
 * A model linear in the pixels: class k scores b_k + Σ_e w[k][e]·x[e] over the item's flat values
 * (in the model's layout), computed in float64 and returned as float32 logits.
 */
export function linearModel(
  shape: readonly [number, number, number],
  weights: readonly Float64Array[],
  bias: readonly number[] = weights.map(() => 0),
  layout: Layout = 'NCHW',
): Model {
  const per = shape[0] * shape[1] * shape[2];
  const k = weights.length;
  return fromFunction(
    (x: Tensor) => {
      const n = x.shape[0];
      const out = new Float32Array(n * k);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < k; c++) {
          let s = bias[c];
          for (let e = 0; e < per; e++) s += weights[c][e] * x.data[i * per + e];
          out[i * k + c] = s;
        }
      return out;
    },
    { name: 'linear', inputShape: [...shape], layout, numClasses: k, inputRange: [0, 1] },
  );
}

/**
 * A nonlinear model: class k scores Σ_e w[k][e]·x[e]² + x[0]·x[per−1]·k + tanh(Σ x)·(k+1), so
 * drops of overlapping windows do not add up.
 */
export function curvyModel(
  shape: readonly [number, number, number],
  weights: readonly Float64Array[],
): Model {
  const per = shape[0] * shape[1] * shape[2];
  const k = weights.length;
  return fromFunction(
    (x: Tensor) => {
      const n = x.shape[0];
      const out = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        const v = x.data.subarray(i * per, (i + 1) * per);
        const total = v.reduce((a, b) => a + b, 0);
        for (let c = 0; c < k; c++) {
          let s = v[0] * v[per - 1] * c + Math.tanh(total) * (c + 1);
          for (let e = 0; e < per; e++) s += weights[c][e] * v[e] * v[e];
          out[i * k + c] = s;
        }
      }
      return out;
    },
    { name: 'curvy', inputShape: [...shape], layout: 'NCHW', numClasses: k, inputRange: [0, 1] },
  );
}

/** Seeded weights in [−1, 1). */
export function randomWeights(count: number, size: number, seed: number): Float64Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => Float64Array.from({ length: size }, () => 2 * next() - 1));
}

/** Item `i` of a batch tensor as a one-item batch. */
export function itemOf(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(i * per, (i + 1) * per), shape: [1, ...t.shape.slice(1)] };
}

/**
 * A model that only sees per-segment sums: with `labels` (h·w) cutting the image into `count`
 * segments, s_k = Σ over segment k's pixels and all channels of x, and class scores are
 * `game(s)` (NCHW).
 */
export function segmentModel(
  shape: readonly [number, number, number],
  labels: ArrayLike<number>,
  count: number,
  numClasses: number,
  game: (sums: Float64Array) => readonly number[],
): Model {
  const [c, h, w] = shape;
  const hw = h * w;
  return fromFunction(
    (x: Tensor) => {
      const n = x.shape[0];
      const out = new Float32Array(n * numClasses);
      for (let i = 0; i < n; i++) {
        const sums = new Float64Array(count);
        for (let ch = 0; ch < c; ch++)
          for (let p = 0; p < hw; p++) sums[labels[p]] += x.data[i * c * hw + ch * hw + p];
        out.set(game(sums), i * numClasses);
      }
      return out;
    },
    { name: 'segment-game', inputShape: [...shape], layout: 'NCHW', numClasses, inputRange: [0, 1] },
  );
}

/** Labels of a regular grid of `rows × cols` blocks over an `h×w` image, numbered row by row. */
export function gridLabels(h: number, w: number, rows: number, cols: number): Int32Array {
  const out = new Int32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out[y * w + x] = Math.floor((y * rows) / h) * cols + Math.floor((x * cols) / w);
  return out;
}

/**
 * A toy network (reference model: gradients, captures, layer gradients) on a `1×size×size` image
 * whose class-0 score is the mean of the pixels inside `region` and nothing else: a 1×1 identity
 * conv with ReLU (`conv`), flatten, and a dense layer weighting the region's pixels by 1/|region|.
 * Class 1 weighs every pixel equally. `region[p]` is 1 inside.
 */
export function regionSpec(size: number, region: ArrayLike<number>): ToySpec {
  const hw = size * size;
  const inside = Array.from(region).reduce((a, b) => a + b, 0);
  const weight = new Array<number>(2 * hw);
  for (let p = 0; p < hw; p++) {
    weight[p] = region[p] / inside;
    weight[hw + p] = 1 / hw;
  }
  return {
    name: 'region',
    inputShape: [1, size, size],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'conv',
        inChannels: 1,
        outChannels: 1,
        kernel: 1,
        weight: [1],
        bias: [0],
        activation: 'relu',
      },
      { type: 'flatten', name: 'flat' },
      { type: 'dense', name: 'fc', inFeatures: hw, outFeatures: 2, weight },
    ],
  };
}

/** A `size×size` square region `[top, top+side) × [left, left+side)` as 0/1 per pixel. */
export function squareRegion(size: number, top: number, left: number, side: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = top; y < top + side; y++) for (let x = left; x < left + side; x++) out[y * size + x] = 1;
  return out;
}

/** Intersection over union of the pixels where `map > threshold` and the 0/1 `region`. */
export function iou(map: ArrayLike<number>, region: ArrayLike<number>, threshold = 0.5): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < region.length; p++) {
    const a = map[p] > threshold;
    const b = region[p] > 0.5;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union === 0 ? 0 : inter / union;
}
