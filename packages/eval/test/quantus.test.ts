import { readFileSync } from 'node:fs';
import type { Tensor } from '@xlens/core';
import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import {
  complexity,
  pixelFlipping,
  pointingGame,
  regionPerturbation,
  relevanceMass,
  relevanceRank,
  selectivity,
  sparseness,
} from '../src/index.js';

/** Arrays and Quantus's results on them, written by scripts/quantus-crosscheck.py. */
interface Fixture {
  quantus: string;
  shape: [number, number, number, number];
  numClasses: number;
  targets: number[];
  input: number[];
  maps: number[];
  masks: number[];
  weights: number[];
  results: Record<string, number[] | number[][]>;
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/quantus.json', import.meta.url), 'utf8'),
) as Fixture;
const [n, c, h, w] = fixture.shape;
const input: Tensor = { data: Float32Array.from(fixture.input), shape: fixture.shape };
const maps: Tensor = { data: Float32Array.from(fixture.maps), shape: [n, h, w] };
const masks: Tensor = { data: Float32Array.from(fixture.masks), shape: [n, h, w] };
// The bias-free linear model of the script: flatten (channels first, as torch) → dense.
const model = referenceModel({
  name: 'quantus-linear',
  inputShape: [c, h, w],
  numClasses: fixture.numClasses,
  layers: [
    { type: 'flatten', name: 'flatten' },
    {
      type: 'dense',
      name: 'fc',
      inFeatures: c * h * w,
      outFeatures: fixture.numClasses,
      weight: fixture.weights,
      bias: Array(fixture.numClasses).fill(0),
    },
  ],
});
const request = { model, input, target: fixture.targets, maps, masks };
const expectClose = (got: readonly number[], want: readonly number[], digits: number): void => {
  expect(got).toHaveLength(want.length);
  got.forEach((v, i) => {
    expect(v).toBeCloseTo(want[i], digits);
  });
};

describe(`cross-check against Quantus ${fixture.quantus} (same definitions)`, () => {
  it('map-only metrics: sparseness, complexity, pointing game, relevance mass and rank', async () => {
    // Quantus adds 1e-7 (sparseness) and 1e-12 (complexity) and works in float32: 5 digits.
    expectClose((await sparseness.evaluate({ maps })).scores, fixture.results.sparseness as number[], 5);
    expectClose((await complexity.evaluate({ maps })).scores, fixture.results.complexity as number[], 5);
    expect((await pointingGame.evaluate({ maps, masks }, { tolerance: 0 })).scores).toEqual(
      fixture.results.pointingGame,
    );
    const mass = await relevanceMass.evaluate({ maps, masks }, { values: 'signed' });
    expectClose(mass.scores, fixture.results.relevanceMass as number[], 5);
    expectClose(
      (await relevanceRank.evaluate({ maps, masks })).scores,
      fixture.results.relevanceRank as number[],
      12,
    );
  });

  it('pixel-flipping curve, one pixel per step into zeros, on logits', async () => {
    const got = await pixelFlipping.evaluate(request, { steps: h * w, fill: 'zero', score: 'logit' });
    const want = fixture.results.pixelFlipping as number[][];
    for (let i = 0; i < n; i++) expectClose(got.curves?.[i].y.slice(1) ?? [], want[i], 4);
  });

  it('region perturbation drops and selectivity curve, 3×3 regions into zeros', async () => {
    const region = await regionPerturbation.evaluate(request, {
      regionSize: 3,
      steps: 4,
      fill: 'zero',
      score: 'logit',
    });
    const drops = fixture.results.regionPerturbation as number[][];
    for (let i = 0; i < n; i++) {
      const y = region.curves?.[i].y ?? [];
      expectClose(
        y.slice(1).map((v) => y[0] - v),
        drops[i],
        4,
      );
    }
    const sel = await selectivity.evaluate(request, { patchSize: 3, fill: 'zero', score: 'logit' });
    const curves = fixture.results.selectivity as number[][];
    for (let i = 0; i < n; i++) expectClose(sel.curves?.[i].y.slice(1) ?? [], curves[i], 4);
  });
});
