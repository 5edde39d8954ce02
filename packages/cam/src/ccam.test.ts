import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { scaled } from '../test/fixtures.js';
import { cam } from './cam.js';
import { ccam } from './ccam.js';

describe('ccam', () => {
  it('sums, for every image of the group, the CAMs of the largest components of the mean output', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 3, 101);
    const out = await model.forward(x);
    const mean = [0, 1, 2, 3, 4].map((j) => (out.data[j] + out.data[5 + j] + out.data[10 + j]) / 3);
    const top = mean
      .map((_, j) => j)
      .sort((i, j) => mean[j] - mean[i])
      .slice(0, 2);
    const r = await ccam.explain(model, x, 'top1', { components: 2, upsample: false, batchSize: 2 });
    expect(r.extras.commonComponents).toEqual(top);
    expect(r.extras.commonVector).toHaveLength(5);
    const [a, b] = await Promise.all(top.map((j) => cam.explain(model, x, j, { upsample: false })));
    // Grad-CAM weights are the dense weights / (h·w) = /16 on this GAP→dense head.
    assertClose(
      'Σ CAM / 16',
      r.map,
      scaled({ data: a.map.data.map((v, i) => v + b.map.data[i]), shape: a.map.shape }, 1 / 16),
      1e-5,
    );
  });

  it('gives each image of the group a map of the same components whatever the targets', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 102);
    const a = await ccam.explain(model, x, [0, 1]);
    const b = await ccam.explain(model, x, [4, 4]);
    assertClose('targets ignored', a.map, b.map, 0);
  });
});
