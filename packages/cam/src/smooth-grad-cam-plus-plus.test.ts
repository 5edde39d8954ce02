import { type BackwardRequest, createSampleRng, type Tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, maxAbs } from '../test/fixtures.js';
import { gradCamPlusPlus } from './grad-cam-plus-plus.js';
import { smoothGradCamPlusPlus } from './smooth-grad-cam-plus-plus.js';

describe('smooth-grad-cam-plus-plus', () => {
  const model = referenceModel(tinyCnn());
  const x = randomInput(model, 2, 41);

  it('equals Grad-CAM++ without noise', async () => {
    const s = await smoothGradCamPlusPlus.explain(model, x, [0, 3], {
      layer: 'conv1',
      sigma: 0,
      samples: 4,
      relu: false,
    });
    const g = await gradCamPlusPlus.explain(model, x, [0, 3], { layer: 'conv1', relu: false });
    assertClose('sigma 0', s.map, g.map, 1e-5);
  });

  it('is deterministic for a seed, independent of batchSize, and changes with the seed', async () => {
    const opts = { layer: 'conv1', samples: 5, sigma: 0.3, relu: false };
    const a = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 3, batchSize: 3 });
    const b = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 3, batchSize: 16 });
    expect(Array.from(b.map.data)).toEqual(Array.from(a.map.data));
    const c = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 4 });
    const diff = c.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - a.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-4 * maxAbs(a.map));
  });

  it('adds to item i in sample s the noise σ·(max_i − min_i)·z_s, one z_s ~ sampleRng(0, s) for all items', async () => {
    const rows: Tensor[] = [];
    const spy = {
      ...model,
      backward: (req: BackwardRequest) => {
        rows.push(req.input);
        return model.backward!(req);
      },
    };
    const [samples, sigma, seed] = [3, 0.2, 7];
    await smoothGradCamPlusPlus.explain(spy, x, [0, 3], {
      layer: 'conv1',
      samples,
      sigma,
      seed,
      batchSize: 4,
    });
    const per = x.data.length / 2;
    const got = rows.flatMap((t) => Array.from(t.data));
    expect(got).toHaveLength(2 * samples * per);
    const expected = new Float32Array(got.length);
    for (let s = 0; s < samples; s++) {
      const z = createSampleRng(seed, 0, s).fillNormal(new Float64Array(per));
      for (let b = 0; b < 2; b++) {
        const item = x.data.subarray(b * per, (b + 1) * per);
        const std = sigma * (Math.max(...item) - Math.min(...item));
        for (let j = 0; j < per; j++) expected[(s * 2 + b) * per + j] = item[j] + std * z[j];
      }
    }
    expect(got).toEqual(Array.from(expected));
  });

  it('gives an item the same map at any position of the batch', async () => {
    const opts = { layer: 'conv1', samples: 3, sigma: 0.3, seed: 2, batchSize: 2 };
    const swapped: Tensor = {
      data: Float32Array.from([...itemOf(x, 1).data, ...itemOf(x, 0).data]),
      shape: x.shape,
    };
    const a = await smoothGradCamPlusPlus.explain(model, x, [0, 3], opts);
    const b = await smoothGradCamPlusPlus.explain(model, swapped, [3, 0], opts);
    expect(Array.from(itemOf(b.map, 1).data)).toEqual(Array.from(itemOf(a.map, 0).data));
    expect(Array.from(itemOf(b.map, 0).data)).toEqual(Array.from(itemOf(a.map, 1).data));
  });

  it('averages derivatives over noisy copies: differs from Grad-CAM++ with noise, reports progress', async () => {
    const seen: number[] = [];
    const s = await smoothGradCamPlusPlus.explain(model, itemOf(x, 0), 0, {
      layer: 'conv1',
      samples: 6,
      sigma: 0.5,
      batchSize: 4,
      onProgress: (p) => seen.push(p.done / p.total),
    });
    const g = await gradCamPlusPlus.explain(model, itemOf(x, 0), 0, { layer: 'conv1' });
    const diff = s.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - g.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-3 * maxAbs(g.map));
    expect(seen).toEqual([4 / 6, 1]);
  });
});
