import type { Model, Tensor } from '@xlens/core';
import { biasFreeCnn, cnnWithBatchNorm, referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { expectClose, randomInput } from '../test/fixtures.js';
import { probeConvGeometry } from './conv-geometry.js';
import { fitPatterns } from './pattern-fit.js';

type Conv = Extract<ToySpec['layers'][number], { type: 'conv' }>;

/** cov(patch, y) / var(y) per output channel, straight from the spec's geometry (NCHW input). */
async function bruteForceConvPattern(
  model: Model,
  spec: ToySpec,
  name: string,
  x: Tensor,
  positive: boolean,
): Promise<Float32Array> {
  const index = spec.layers.findIndex((l) => l.name === name);
  const conv = spec.layers[index] as Conv;
  const source = index === 0 ? null : spec.layers[index - 1].name;
  const { activations } = await model.capture!(x, source ? [name, source] : [name]);
  const xin = source ? activations[source] : x;
  const y = activations[name];
  const [n, c, h, w] = xin.shape;
  const [, o, oh, ow] = y.shape;
  const k = conv.kernel;
  const stride = conv.stride ?? 1;
  const pad = conv.padding === 'same' ? (k - 1) / 2 : 0;
  const p = c * k * k;
  const out = new Float32Array(o * p);
  for (let oc = 0; oc < o; oc++) {
    const samples: { y: number; patch: number[] }[] = [];
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const yv = y.data[((b * o + oc) * oh + i) * ow + j];
          if (positive && !(yv > 0)) continue;
          const patch: number[] = [];
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const r = i * stride - pad + u;
                const s = j * stride - pad + v;
                patch.push(r >= 0 && r < h && s >= 0 && s < w ? xin.data[((b * c + ci) * h + r) * w + s] : 0);
              }
          samples.push({ y: yv, patch });
        }
    const m = samples.length;
    // A unit never active in its regime carries no signal: its pattern is 0.
    if (m < 2) continue;
    const ey = samples.reduce((a, s) => a + s.y, 0) / m;
    const vy = samples.reduce((a, s) => a + (s.y - ey) ** 2, 0) / m;
    for (let q = 0; q < p; q++) {
      const ex = samples.reduce((a, s) => a + s.patch[q], 0) / m;
      out[oc * p + q] = samples.reduce((a, s) => a + (s.patch[q] - ex) * (s.y - ey), 0) / m / vy;
    }
  }
  return out;
}

describe('fitPatterns', () => {
  it('fits conv patterns over receptive-field patches, positive regime before ReLUs', async () => {
    const spec = tinyCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 6, 2);
    const patterns = await fitPatterns(model, x, { batchSize: 4 });
    expect(patterns.layers.conv1.estimator).toBe('positive');
    expect(patterns.layers.conv2.estimator).toBe('positive');
    expect(patterns.layers.fc.estimator).toBe('linear');
    expect(patterns.layers.conv1.pattern.shape).toEqual([4, 3, 3, 3]);
    expectClose(
      patterns.layers.conv1.pattern.data,
      await bruteForceConvPattern(model, spec, 'conv1', x, true),
      1e-4,
    );
    expectClose(
      patterns.layers.conv2.pattern.data,
      await bruteForceConvPattern(model, spec, 'conv2', x, true),
      1e-4,
    );
  });

  it('handles strided valid convolutions, linear estimators and NHWC inputs', async () => {
    const spec = biasFreeCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 12, 3);
    const patterns = await fitPatterns(model, x);
    expectClose(
      patterns.layers.conv2.pattern.data,
      await bruteForceConvPattern(model, spec, 'conv2', x, true),
      1e-4,
    );
    const bnSpec = cnnWithBatchNorm();
    const bn = referenceModel(bnSpec);
    const xb = randomInput(bn, 4, 4);
    const p2 = await fitPatterns(bn, xb, { layers: ['conv1'] });
    expect(Object.keys(p2.layers)).toEqual(['conv1']);
    expect(p2.layers.conv1.estimator).toBe('linear');
    expectClose(
      p2.layers.conv1.pattern.data,
      await bruteForceConvPattern(bn, bnSpec, 'conv1', xb, false),
      1e-4,
    );
    const nhwc = referenceModel(bnSpec, { layout: 'NHWC' });
    const xl = new Float32Array(xb.data.length);
    for (let b = 0; b < 4; b++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 64; p++) xl[b * 192 + p * 3 + c] = xb.data[b * 192 + c * 64 + p];
    const p3 = await fitPatterns(nhwc, { data: xl, shape: [4, 8, 8, 3] }, { layers: ['conv1'] });
    expectClose(p3.layers.conv1.pattern.data, p2.layers.conv1.pattern.data, 1e-5);
  });

  it('measures conv geometry through the contract', async () => {
    const spec = biasFreeCnn();
    const model = referenceModel(spec);
    const layers = model.layers!();
    const sample = randomInput(model, 1);
    const conv2 = layers.find((l) => l.name === 'conv2')!;
    const g = await probeConvGeometry(
      model,
      conv2,
      { layer: 'pool1', shape: [4, 5, 5] },
      [6, 4, 3, 3],
      sample,
    );
    expect(g).toMatchObject({
      strideH: 2,
      strideW: 2,
      padTop: 0,
      padLeft: 0,
      dilationH: 1,
      kH: 3,
      groups: 1,
      outH: 2,
    });
    const same = referenceModel(tinyCnn());
    const g1 = await probeConvGeometry(
      same,
      same.layers!()[1],
      { layer: null, shape: [3, 8, 8] },
      [4, 3, 3, 3],
      randomInput(same, 1),
    );
    expect(g1).toMatchObject({ strideH: 1, padTop: 1, padLeft: 1, dilationW: 1 });
  });

  it('streams the inputs through core: any batchSize gives the same patterns, with progress and abort', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 5, 8);
    const done: Array<[number, number]> = [];
    const chunked = await fitPatterns(model, x, {
      batchSize: 2,
      onProgress: (d, t) => done.push([d, t]),
    });
    expect(done).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    const whole = await fitPatterns(model, x);
    for (const name of Object.keys(whole.layers))
      expect(Array.from(chunked.layers[name].pattern.data)).toEqual(
        Array.from(whole.layers[name].pattern.data),
      );
    const controller = new AbortController();
    controller.abort();
    await expect(fitPatterns(model, x, { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
    await expect(fitPatterns(model, x, { batchSize: 0 })).rejects.toMatchObject({ code: 'invalid-option' });
  });

  it('refuses unknown layers and a linear estimator behind a fused ReLU', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2);
    await expect(fitPatterns(model, x, { layers: ['nope'] })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(fitPatterns(model, x, { estimator: 'linear' })).rejects.toThrow(/fused ReLU/);
  });
});
