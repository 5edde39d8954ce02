import type { Tensor } from '@xlens/core';
import { randomInput, referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { xrai } from './xrai.js';
import { greedyRegions } from './xrai-regions.js';

/** Quadrant of pixel p of a 16×16 image: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right. */
const quadrant = (p: number) => (Math.floor(p / 16) < 8 ? 0 : 2) + (p % 16 < 8 ? 0 : 1);

/** A 3×16×16 image of four flat quadrants of distinct colours. */
function quadrants(): Tensor {
  const colours = [
    [0.9, 0.1, 0.1],
    [0.1, 0.8, 0.2],
    [0.2, 0.3, 0.9],
    [0.8, 0.8, 0.1],
  ];
  const data = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) data[c * 256 + p] = colours[quadrant(p)][c];
  return { data, shape: [1, 3, 16, 16] };
}

/** A model linear in the quadrants: class 0 scores Σ_k v_k · (sum of quadrant k over all channels). */
function quadrantModel(v: readonly number[]) {
  const weight = Array.from({ length: 3 * 256 }, (_, e) => v[quadrant(e % 256)]);
  const spec: ToySpec = {
    name: 'quadrant-linear',
    inputShape: [3, 16, 16],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flatten' },
      {
        type: 'dense',
        name: 'fc',
        inFeatures: 768,
        outFeatures: 2,
        weight: [...weight, ...weight.map((x) => -x)],
      },
    ],
  };
  return referenceModel(spec, { inputRange: [0, 1] });
}

const small = { steps: 4, segmentationSize: 0, minSize: 8, dilation: 0, minPixels: 4, scales: [1, 10, 100] };

describe('xrai', () => {
  it('regions follow IG mass: on a model linear in its segments the first region added holds the largest IG sum', async () => {
    const x = quadrants();
    for (const v of [
      [1, -2, 0.5, 3],
      [-1, 2, 0.25, 0.5],
    ]) {
      const model = quadrantModel(v);
      const a = await xrai.explain(model, x, 0, small);
      // IG of a linear model is exact: (x − x̄)·w, averaged over the black (0) and white (1)
      // baselines (x − ½)·w, then the maximum over channels.
      const igSum = [0, 0, 0, 0];
      for (let p = 0; p < 256; p++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < 3; c++) best = Math.max(best, (x.data[c * 256 + p] - 0.5) * v[quadrant(p)]);
        igSum[quadrant(p)] += best;
      }
      const top = Math.max(...a.map.data);
      const first = new Set(
        Array.from(a.map.data.keys())
          .filter((p) => a.map.data[p] === top)
          .map(quadrant),
      );
      expect([...first]).toEqual([igSum.indexOf(Math.max(...igSum))]);
      // Equal-size quadrants: the map ranks them by their IG sums, each at its own density.
      for (let p = 0; p < 256; p++) expect(a.map.data[p]).toBeCloseTo(igSum[quadrant(p)] / 64, 4);
      expect(a.extras.regions[0]).toBeGreaterThanOrEqual(4);
    }
  });

  it('greedy merge: densest region first, small additions dropped, uncovered pixels get their mean', () => {
    const attr = Float64Array.from([5, 5, 1, 1, 0, 9, -3, -3]);
    const regions = [
      Int32Array.from([0, 1, 2, 3]),
      Int32Array.from([2, 3]),
      Int32Array.from([5]),
      Int32Array.from([6, 7]),
    ];
    const all = greedyRegions(attr, regions, 1, 1);
    // [5] has density 9 and goes first; then {0,1,2,3} (3), then {6,7} (−3); pixel 4 is left over.
    expect(Array.from(all.map)).toEqual([3, 3, 3, 3, 0, 9, -3, -3]);
    expect(all.regions).toBe(3);
    const big = greedyRegions(attr, regions, 1, 2);
    expect(Array.from(big.map)).toEqual([3, 3, 3, 3, 4.5, 4.5, -3, -3]);
    // Stopping at half the area leaves the rest at its mean attribution.
    const half = greedyRegions(attr, regions, 0.4, 1);
    expect(half.regions).toBe(2);
  });

  it('runs on a CNN with the authors’ settings and validates its options', async () => {
    const model = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
    const x = randomInput(model, 2, 3);
    const a = await xrai.explain(model, x, [1, 2], { steps: 4, minPixels: 4 });
    expect(a.map.shape).toEqual([2, 8, 8]);
    expect(a.map.data.every(Number.isFinite)).toBe(true);
    await expect(xrai.explain(model, x, 0, { baselines: [] })).rejects.toThrow(/baselines = \[\]/);
    await expect(xrai.explain(model, x, 0, { baselines: ['grey'] })).rejects.toThrow(/"grey"/);
  });
});
