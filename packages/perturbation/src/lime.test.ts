import type { Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { gridLabels, segmentModel } from '../test/models.js';
import { lime } from './lime.js';

/** A 3×16×16 image of four flat quadrants of distinct colours (plus a little texture). */
function quadrants(): Tensor {
  const colours = [
    [0.9, 0.1, 0.1],
    [0.1, 0.8, 0.2],
    [0.2, 0.2, 0.9],
    [0.9, 0.9, 0.1],
  ];
  const labels = gridLabels(16, 16, 2, 2);
  const data = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < 256; p++) data[c * 256 + p] = colours[labels[p]][c] + 0.02 * Math.sin(p);
  return { data, shape: [1, 3, 16, 16] };
}

describe('lime', () => {
  const x = quadrants();
  const labels = gridLabels(16, 16, 2, 2);
  // Segment sums of the image itself, so segment k's share of the score is exactly v_k·z_k.
  const full = new Float64Array(4);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) full[labels[p]] += x.data[c * 256 + p];
  const v = [1.5, -0.7, 0.25, 2];
  const model = segmentModel([3, 16, 16], labels, 4, 2, (s) => {
    let f = 0.3;
    for (let k = 0; k < 4; k++) f += (v[k] * s[k]) / full[k];
    return [f, -f];
  });

  it('recovers the weights of a model that is linear in its segments (SLIC finds the quadrants)', async () => {
    const exact = await lime.explain(model, x, 0, {
      segments: 4,
      samples: 200,
      fill: 'zero',
      alpha: 0,
      probability: false,
    });
    expect(exact.extras.segmentCount).toEqual([4]);
    expect(exact.extras.segments).toEqual(Array.from(labels));
    const weights = exact.extras.segmentWeights;
    for (let k = 0; k < 4; k++) expect(weights[k]).toBeCloseTo(v[k], 6);
    expect(exact.extras.intercept[0]).toBeCloseTo(0.3, 6);
    expect(exact.extras.r2[0]).toBeCloseTo(1, 9);
    // The map paints every pixel with its segment's weight.
    for (let p = 0; p < 256; p++) expect(exact.map.data[p]).toBeCloseTo(v[labels[p]], 6);
    // The default ridge penalty (α = 1) shrinks the weights only a little with 1000 samples.
    const ridge = await lime.explain(model, x, 0, { segments: 4, fill: 'zero', probability: false });
    const shrunk = ridge.extras.segmentWeights;
    for (let k = 0; k < 4; k++) expect(Math.abs(shrunk[k] - v[k])).toBeLessThan(0.02 * Math.abs(v[k]) + 0.01);
  });

  it('takes user labels, segment-mean fill and felzenszwalb; weighs samples by the cosine kernel', async () => {
    const given = await lime.explain(model, x, 0, {
      segmentation: { data: Float32Array.from(labels, (l) => 10 * l + 3), shape: [16, 16] },
      samples: 50,
      fill: 'zero',
      alpha: 0,
      probability: false,
    });
    expect(given.extras.segmentWeights.map((w) => Number(w.toFixed(6)))).toEqual(v);
    const fz = await lime.explain(model, x, 0, { segmentation: 'felzenszwalb', scale: 50, samples: 50 });
    expect(fz.extras.segmentCount).toEqual([4]);
    // segment-mean fill of a flat quadrant changes little: small, finite weights.
    const mean = await lime.explain(model, x, 0, { segments: 4, samples: 50, probability: false });
    expect(mean.map.data.every(Number.isFinite)).toBe(true);
  });

  it('validates before compute', async () => {
    await expect(lime.explain(model, x, 0, { segmentation: 'quickshift' as never })).rejects.toThrow(
      /"quickshift"/,
    );
    await expect(
      lime.explain(model, x, 0, { segmentation: { data: new Float32Array(4), shape: [2, 2] } }),
    ).rejects.toThrow(/\[2, 2\].*\[16, 16\]/);
    await expect(
      lime.explain(model, x, 0, { segmentation: { data: new Float32Array(256).fill(0.5), shape: [16, 16] } }),
    ).rejects.toThrow(/0.5/);
    await expect(lime.explain(model, x, 0, { fill: 'grey' })).rejects.toThrow(/"grey"/);
    await expect(lime.explain(model, x, 0, { samples: 1 })).rejects.toThrow(/samples = 1/);
  });
});
