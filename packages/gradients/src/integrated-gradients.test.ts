import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, linearCnn, maxAbs, maxAbsDiff, npyBytes, randomTensor } from '../test/fixtures.js';
import { gradient } from './gradient.js';
import { integratedGradients as ig } from './integrated-gradients.js';

const gaps = (extras: Record<string, unknown>) => (extras.completenessGap as number[]).map(Math.abs);

describe('integrated-gradients', () => {
  const model = referenceModel(tinyCnn(), { inputRange: [-2, 2] });
  const x = randomTensor([2, 3, 8, 8], 71);

  it('completeness gap shrinks with steps on a ReLU net', async () => {
    const coarse = await ig.explain(model, x, [1, 4], { steps: 4, scheme: 'riemann-middle' });
    const fine = await ig.explain(model, x, [1, 4], { steps: 128, scheme: 'riemann-middle' });
    for (let i = 0; i < 2; i++) expect(gaps(fine.extras)[i]).toBeLessThan(gaps(coarse.extras)[i]);
    expect(Math.max(...(fine.extras.relativeCompletenessGap as number[]))).toBeLessThan(0.05);
  });

  it('Gauss–Legendre beats Riemann at equal steps on a smooth net (softmax of an affine net)', async () => {
    const smooth = referenceModel(linearCnn());
    const input = randomTensor([1, 2, 4, 4], 72, 0.5);
    const run = (scheme: 'gauss-legendre' | 'riemann-trapezoid' | 'riemann-middle') =>
      ig.explain(smooth, input, 0, { steps: 6, scheme, score: 'softmax' });
    const gl = gaps((await run('gauss-legendre')).extras)[0];
    const gaps6 = [
      gaps((await run('riemann-trapezoid')).extras)[0],
      gaps((await run('riemann-middle')).extras)[0],
    ];
    expect(gaps6[0]).toBeGreaterThan(1e-4);
    for (const g of gaps6) expect(gl).toBeLessThan(g / 100);
  });

  it('is exactly (x − x̄) ⊙ gradient on an affine net with any scheme', async () => {
    const affine = referenceModel(linearCnn());
    const input = randomTensor([2, 2, 4, 4], 73);
    const g = await gradient.explain(affine, input, 2);
    const attr = await ig.explain(affine, input, 2, { steps: 3, scheme: 'riemann-left' });
    for (let e = 0; e < input.data.length; e++)
      expect(attr.map.data[e]).toBeCloseTo(input.data[e] * g.map.data[e], 5);
    expect(Math.max(...gaps(attr.extras))).toBeLessThan(1e-4);
  });

  it('does a batch as its items one by one, streaming rows in batchSize chunks with progress', async () => {
    const seen: number[] = [];
    const batch = await ig.explain(model, x, [1, 4], {
      steps: 5,
      batchSize: 3,
      onProgress: (p) => seen.push(p.done, p.total),
    });
    const second = await ig.explain(model, itemOf(x, 1), 4, { steps: 5 });
    expect(maxAbsDiff(itemOf(batch.map, 1), second.map)).toBeLessThan(1e-6);
    expect(seen).toEqual([3, 10, 6, 10, 9, 10, 10, 10]);
  });

  it('takes black and white from the model inputRange, per channel too', async () => {
    const perChannel = referenceModel(tinyCnn(), {
      inputRange: [
        [-1, 1],
        [-2, 2],
        [0, 3],
      ],
    });
    const xi = itemOf(x, 0);
    const black = await ig.explain(perChannel, xi, 0, { steps: 8, baseline: 'black' });
    const explicit: Tensor = {
      data: new Float32Array(192).map((_, e) => [-1, -2, 0][Math.floor(e / 64)]),
      shape: [1, 3, 8, 8],
    };
    const viaTensor = await ig.explain(perChannel, xi, 0, { steps: 8, baseline: explicit });
    expect(maxAbsDiff(black.map, viaTensor.map)).toBe(0);
    const white = await ig.explain(model, xi, 0, { steps: 8, baseline: 'white' });
    const two = await ig.explain(model, xi, 0, { steps: 8, baseline: 2 });
    expect(maxAbsDiff(white.map, two.map)).toBe(0);
  });

  it('a baseline equal to the input gives a zero map; uniform baselines follow the seed', async () => {
    const xi = itemOf(x, 1);
    expect(maxAbs((await ig.explain(model, xi, 0, { steps: 4, baseline: xi })).map)).toBe(0);
    const a = await ig.explain(model, xi, 0, { steps: 4, baseline: 'uniform', seed: 5 });
    const b = await ig.explain(model, xi, 0, { steps: 4, baseline: 'uniform', seed: 5 });
    const c = await ig.explain(model, xi, 0, { steps: 4, baseline: 'uniform', seed: 6 });
    expect(maxAbsDiff(a.map, b.map)).toBe(0);
    expect(maxAbsDiff(a.map, c.map)).toBeGreaterThan(1e-3);
    const blurred = await ig.explain(model, xi, 0, { steps: 16, baseline: 'blur', blurSigma: 1 });
    expect(Math.max(...gaps(blurred.extras))).toBeLessThan(0.1);
  });

  it('reads a float32 .npy baseline and rejects wrong dtype or shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlens-ig-'));
    const xi = itemOf(x, 0);
    const base = randomTensor([3, 8, 8], 74, 0.1);
    writeFileSync(join(dir, 'ok.npy'), npyBytes('<f4', [3, 8, 8], base.data));
    writeFileSync(join(dir, 'f64.npy'), npyBytes('<f8', [3, 8, 8], new Float64Array(192)));
    writeFileSync(join(dir, 'shape.npy'), npyBytes('<f4', [8, 8, 3], new Float32Array(192)));
    const fromFile = await ig.explain(model, xi, 0, { steps: 4, baseline: join(dir, 'ok.npy') });
    const fromTensor = await ig.explain(model, xi, 0, { steps: 4, baseline: base });
    expect(maxAbsDiff(fromFile.map, fromTensor.map)).toBe(0);
    await expect(ig.explain(model, xi, 0, { baseline: join(dir, 'f64.npy') })).rejects.toThrow(
      /f64\.npy: dtype is <f8/,
    );
    await expect(ig.explain(model, xi, 0, { baseline: join(dir, 'shape.npy') })).rejects.toThrow(
      /shape \[8, 8, 3\]; expected \[3, 8, 8\]/,
    );
    await expect(ig.explain(model, xi, 0, { baseline: join(dir, 'missing.npy') })).rejects.toThrow(
      /cannot read baseline file/,
    );
  });

  it('rejects a bad scheme, an unknown baseline, and black/white without inputRange', async () => {
    const bare = referenceModel(tinyCnn());
    const xi = itemOf(x, 0);
    await expect(ig.explain(bare, xi, 0, { scheme: 'simpson' as never })).rejects.toThrow(
      /scheme = "simpson" is invalid; expected one of riemann-left/,
    );
    await expect(ig.explain(bare, xi, 0, { baseline: 'grey' })).rejects.toThrow(
      /baseline = "grey" is invalid; expected one of zero, black, white, blur, uniform/,
    );
    await expect(ig.explain(bare, xi, 0, { baseline: 'black' })).rejects.toThrow(
      /baseline black needs model\.info\.inputRange/,
    );
    await expect(ig.explain(bare, xi, 0, { baseline: 'uniform' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(ig.explain(bare, xi, 0, { scheme: 'riemann-trapezoid', steps: 1 })).rejects.toThrow(/≥ 2/);
  });
});
