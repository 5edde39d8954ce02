import { type Model, type Tensor, toChannelsLast } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { curvyModel, linearModel, randomWeights } from '../test/models.js';
import { occlusion } from './occlusion.js';

/**
 * The drop map computed the slow, obvious way: every window listed by hand, the occluded image
 * built by copying and zeroing, one forward per window, drops averaged per pixel.
 */
async function handDropMap(
  model: Model,
  x: Tensor,
  target: number,
  tops: readonly number[],
  lefts: readonly number[],
  size: readonly [number, number],
): Promise<Float64Array> {
  const [c, h, w] = x.shape.slice(1);
  const score = async (t: Tensor) => (await model.forward(t)).data[target];
  const full = await score(x);
  const sum = new Float64Array(h * w);
  const count = new Float64Array(h * w);
  for (const top of tops)
    for (const left of lefts) {
      const occluded = x.data.slice();
      const inside = (y: number, xx: number) =>
        y >= top && y < top + size[0] && xx >= left && xx < left + size[1];
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++) if (inside(y, xx)) occluded[(ch * h + y) * w + xx] = 0;
      const drop = full - (await score({ data: occluded, shape: x.shape }));
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          if (inside(y, xx)) {
            sum[y * w + xx] += drop;
            count[y * w + xx]++;
          }
    }
  return sum.map((s, p) => s / count[p]);
}

describe('occlusion', () => {
  const shape = [2, 6, 7] as const;
  const model = curvyModel(shape, randomWeights(3, 2 * 6 * 7, 1));
  const x = randomInput(model, 1, 2, 0, 1);

  it('equals a hand-computed drop map on a toy net (overlapping windows, the last one cut at the border)', async () => {
    // H = 6, window 4, stride 3: ⌈(6−4)/3⌉+1 = 2 starts (0, 3), the second cut to rows 3–5.
    // W = 7, window 3, stride 2: ⌈(7−3)/2⌉+1 = 3 starts (0, 2, 4).
    const a = await occlusion.explain(model, x, 2, { window: [4, 3], stride: [3, 2] });
    const expected = await handDropMap(model, x, 2, [0, 3], [0, 2, 4], [4, 3]);
    expect(a.map.shape).toEqual([1, 6, 7]);
    expect(a.extras.windows).toBe(6);
    for (let p = 0; p < 42; p++) expect(a.map.data[p]).toBeCloseTo(expected[p], 5);
  });

  it('is exact when windows tile the image: each pixel holds its window’s drop', async () => {
    const net = referenceModel(tinyCnn());
    const input = randomInput(net, 2, 3);
    const a = await occlusion.explain(net, input, [1, 4], { window: 4, stride: 4, batchSize: 3 });
    const base = await net.forward(input);
    const per = 3 * 64;
    for (let i = 0; i < 2; i++)
      for (const [top, left] of [
        [0, 0],
        [0, 4],
        [4, 0],
        [4, 4],
      ]) {
        const occluded = input.data.slice(i * per, (i + 1) * per);
        for (let ch = 0; ch < 3; ch++)
          for (let y = top; y < top + 4; y++)
            for (let xx = left; xx < left + 4; xx++) occluded[ch * 64 + y * 8 + xx] = 0;
        const out = await net.forward({ data: occluded, shape: [1, 3, 8, 8] });
        const target = [1, 4][i];
        const drop = Math.fround(base.data[i * 5 + target] - out.data[target]);
        for (let y = top; y < top + 4; y++)
          for (let xx = left; xx < left + 4; xx++) expect(a.map.data[i * 64 + y * 8 + xx]).toBe(drop);
      }
  });

  it('fills with core baselines: a constant fill c on a linear model drops Σ_window w·(x − c)', async () => {
    const weights = randomWeights(2, 2 * 4 * 4, 3);
    const lin = linearModel([2, 4, 4], weights);
    const input = randomInput(lin, 1, 4, 0, 1);
    const a = await occlusion.explain(lin, input, 1, { window: 2, stride: 2, fill: 0.5 });
    for (let y = 0; y < 4; y++)
      for (let xx = 0; xx < 4; xx++) {
        let drop = 0;
        for (let ch = 0; ch < 2; ch++)
          for (let yy = y - (y % 2); yy < y - (y % 2) + 2; yy++)
            for (let xw = xx - (xx % 2); xw < xx - (xx % 2) + 2; xw++) {
              const e = ch * 16 + yy * 4 + xw;
              drop += weights[1][e] * (input.data[e] - 0.5);
            }
        expect(a.map.data[y * 4 + xx]).toBeCloseTo(drop, 5);
      }
    const mean = await occlusion.explain(lin, input, 1, { window: 2, stride: 1, fill: 'mean' });
    const blur = await occlusion.explain(lin, input, 1, { window: 2, stride: 1, fill: 'blur', blurSigma: 1 });
    expect(mean.map.data.every(Number.isFinite) && blur.map.data.every(Number.isFinite)).toBe(true);
  });

  it('gives the same map in NCHW and NHWC', async () => {
    const weights = randomWeights(2, 3 * 5 * 5, 5);
    const nchw = linearModel([3, 5, 5], weights);
    // The same model reading channels-last input: weights permuted to (y, x, c) order.
    const permuted = weights.map((wt) => {
      const out = new Float64Array(wt.length);
      for (let c = 0; c < 3; c++) for (let p = 0; p < 25; p++) out[p * 3 + c] = wt[c * 25 + p];
      return out;
    });
    const nhwc = linearModel([5, 5, 3], permuted, [0, 0], 'NHWC');
    const input = randomInput(nchw, 2, 6, 0, 1);
    const a = await occlusion.explain(nchw, input, [0, 1], { window: 3, stride: 2 });
    const b = await occlusion.explain(nhwc, toChannelsLast(input), [0, 1], { window: 3, stride: 2 });
    for (let e = 0; e < a.map.data.length; e++) expect(b.map.data[e]).toBeCloseTo(a.map.data[e], 5);
  });

  it('reports progress per chunk and stops when aborted', async () => {
    const seen: number[] = [];
    await occlusion.explain(model, x, 0, {
      window: 3,
      stride: 3,
      batchSize: 2,
      onProgress: (p) => seen.push(p.done),
    });
    expect(seen).toEqual([2, 4, 6]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      occlusion.explain(model, x, 0, { signal: controller.signal, window: 3, stride: 3 }),
    ).rejects.toThrow(/aborted/);
  });

  it('validates before compute, naming the bad value', async () => {
    await expect(occlusion.explain(model, x, 0, { window: 3, stride: 4 })).rejects.toThrow(
      /stride \[4, 4\].*window \[3, 3\]/,
    );
    await expect(occlusion.explain(model, x, 0, { window: 7 })).rejects.toThrow(/window \[7, 7\].*6×7/);
    await expect(occlusion.explain(model, x, 0, { window: 0 })).rejects.toThrow(/window = 0/);
    await expect(occlusion.explain(model, x, 0, { window: 3, fill: 'grey' })).rejects.toThrow(/"grey"/);
    const flat = linearModel([1, 1, 4], randomWeights(2, 4, 1));
    const vector = { ...flat, info: { ...flat.info, inputShape: [4] } };
    await expect(occlusion.explain(vector, { data: new Float32Array(4), shape: [1, 4] }, 0)).rejects.toThrow(
      /rank 4/,
    );
  });
});
