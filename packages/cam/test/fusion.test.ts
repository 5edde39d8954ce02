import { resizeBilinear, type Tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { camMethods } from '../src/index.js';
import { maxAbs } from './fixtures.js';

describe('layer fusion (layers option)', () => {
  const model = referenceModel(tinyCnn());
  const x = randomInput(model, 2, 111);
  const fusing = camMethods.filter((m) => 'layers' in m.defaults);

  it('is offered by the channel-weighting methods', () => {
    expect(fusing.map((m) => m.id).sort()).toEqual(
      [
        'ablation-cam',
        'eigen-cam',
        'grad-cam',
        'grad-cam-plus-plus',
        'guided-grad-cam',
        'hires-cam',
        'layer-cam',
        'score-cam',
        'smooth-grad-cam-plus-plus',
        'xgrad-cam',
      ].sort(),
    );
  });

  for (const id of ['grad-cam', 'layer-cam', 'score-cam']) {
    it(`${id}: averages the per-layer maps, each scaled by its max |value|, at every resolution`, async () => {
      const method = camMethods.find((m) => m.id === id)!;
      const fused = await method.explain(model, x, [1, 2], { layers: 'conv1, relu2' });
      const one = await method.explain(model, x, [1, 2], { layer: 'conv1' });
      const two = await method.explain(model, x, [1, 2], { layer: 'relu2' });
      const norm = (t: Tensor): Tensor => {
        const out = new Float32Array(t.data.length);
        const m = t.data.length / 2;
        for (let b = 0; b < 2; b++) {
          const s = maxAbs({ data: t.data.slice(b * m, (b + 1) * m), shape: [m] });
          for (let j = 0; j < m; j++) out[b * m + j] = s > 0 ? t.data[b * m + j] / s : 0;
        }
        return { data: out, shape: t.shape };
      };
      const n1 = norm(one.coarse!);
      const n2 = norm(two.coarse!);
      const average = (p: Tensor, q: Tensor): Tensor => ({
        data: p.data.map((v, i) => (v + q.data[i]) / 2),
        shape: p.shape,
      });
      assertClose('map', fused.map, average(resizeBilinear(n1, 8, 8), resizeBilinear(n2, 8, 8)), 1e-5);
      // The coarse map lives on the finest layer grid (conv1, 8×8).
      assertClose('coarse', fused.coarse, average(n1, resizeBilinear(n2, 8, 8)), 1e-5);
    });
  }
});
