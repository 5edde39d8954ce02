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
      noise: 0,
      samples: 4,
      relu: false,
    });
    const g = await gradCamPlusPlus.explain(model, x, [0, 3], { layer: 'conv1', relu: false });
    assertClose('noise 0', s.map, g.map, 1e-5);
  });

  it('is deterministic for a seed, independent of batchSize, and changes with the seed', async () => {
    const opts = { layer: 'conv1', samples: 5, noise: 0.3, relu: false };
    const a = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 3, batchSize: 3 });
    const b = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 3, batchSize: 16 });
    assertClose('same seed', b.map, a.map, 1e-6);
    const c = await smoothGradCamPlusPlus.explain(model, x, [0, 3], { ...opts, seed: 4 });
    const diff = c.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - a.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-4 * maxAbs(a.map));
  });

  it('averages derivatives over noisy copies: differs from Grad-CAM++ with noise, reports progress', async () => {
    const seen: number[] = [];
    const s = await smoothGradCamPlusPlus.explain(model, itemOf(x, 0), 0, {
      layer: 'conv1',
      samples: 6,
      noise: 0.5,
      batchSize: 4,
      onProgress: (p) => seen.push(p.done / p.total),
    });
    const g = await gradCamPlusPlus.explain(model, itemOf(x, 0), 0, { layer: 'conv1' });
    const diff = s.map.data.reduce((m, v, i) => Math.max(m, Math.abs(v - g.map.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-3 * maxAbs(g.map));
    expect(seen).toEqual([4 / 6, 1]);
  });
});
