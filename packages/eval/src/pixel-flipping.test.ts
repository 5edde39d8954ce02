import { describe, expect, it } from 'vitest';
import { batch, linearModel, trueMaps } from '../test/fixtures.js';
import { aopc } from './internal/aopc.js';
import { pixelFlipping } from './pixel-flipping.js';

describe('pixel-flipping', () => {
  const { model, weights } = linearModel();
  const input = batch(model, 3, 11);
  const targets = [0, 1, 2];
  const maps = trueMaps(model, weights, input, targets);

  it('AOPC of the true map is larger MoRF than LeRF', async () => {
    const request = { model, input, target: targets, maps };
    // The true map holds each pixel's contribution against zero, so the fill is zero.
    const morf = await pixelFlipping.evaluate(request, { steps: 36, fill: 'zero', order: 'morf' });
    const lerf = await pixelFlipping.evaluate(request, { steps: 36, fill: 'zero', order: 'lerf' });
    for (let i = 0; i < 3; i++) expect(morf.scores[i]).toBeGreaterThan(lerf.scores[i]);
  });

  it('flips one pixel (all channels) per step when steps = H·W, and the score is the AOPC of the curve', async () => {
    const got = await pixelFlipping.evaluate(
      { model, input, target: targets, maps },
      { steps: 36, fill: 'zero', score: 'logit' },
    );
    const curve = got.curves?.[0];
    expect(curve?.x).toHaveLength(37);
    expect(curve?.x[1]).toBeCloseTo(1 / 36, 12);
    // Zero fill on a bias-free linear model: each step removes the next pixel's contribution exactly.
    const contrib = Array.from(maps.data.subarray(0, 36)).sort((a, b) => b - a);
    expect((curve?.y[0] ?? 0) - (curve?.y[1] ?? 0)).toBeCloseTo(contrib[0], 4);
    expect(got.scores[0]).toBeCloseTo(aopc(curve?.y ?? []), 12);
  });

  it('draws a seeded uniform fill: the same seed gives the same curve, another seed another', async () => {
    const request = { model, input, target: targets, maps };
    const a = await pixelFlipping.evaluate(request, { steps: 6, seed: 1 });
    const b = await pixelFlipping.evaluate(request, { steps: 6, seed: 1 });
    const c = await pixelFlipping.evaluate(request, { steps: 6, seed: 2 });
    expect(b.curves).toEqual(a.curves);
    expect(c.curves).not.toEqual(a.curves);
  });
});
