import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Model, memoryFiles, type Tensor } from '@xlens/core';
import { nodeFileReader } from '@xlens/core/node';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
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
    // The paper's 5% check: the coarse run names its items, the fine one is silent.
    const coarseGaps = coarse.extras.relativeCompletenessGap as number[];
    const off = coarseGaps.flatMap((r, i) => (r > 0.05 ? [i] : []));
    expect(off.length).toBeGreaterThan(0);
    expect(coarse.warnings).toHaveLength(1);
    const items = off.length === 2 ? 'all 2 items' : `item ${off[0]}`;
    expect(coarse.warnings[0]).toContain(`on ${items} (the paper checks for 5%)`);
    expect(coarse.warnings[0]).toContain('raise steps (now 4)');
    expect(fine.warnings).toEqual([]);
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
    expect(maxAbsDiff(itemOf(batch.map, 1), second.map)).toBe(0);
    expect(seen).toEqual([3, 10, 6, 10, 9, 10, 10, 10]);
  });

  it('with 1,000 steps never holds more than one chunk of rows', async () => {
    const rows: number[] = [];
    const recording: Model = {
      ...model,
      backward: (request) => {
        rows.push(request.input.shape[0]);
        return model.backward!(request);
      },
    };
    const input = randomInput(model, 3, 75);
    const r = await ig.explain(recording, input, [0, 1, 2], { steps: 1000, batchSize: 7 });
    expect(Math.max(...rows)).toBeLessThanOrEqual(7);
    expect(rows.length).toBe(Math.ceil((1000 * 3) / 7));
    expect(Math.max(...(r.extras.relativeCompletenessGap as number[]))).toBeLessThan(0.05);
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
    // One draw shared by every item: two copies of an item get the same map.
    const twice: Tensor = { data: new Float32Array([...xi.data, ...xi.data]), shape: [2, 3, 8, 8] };
    const both = await ig.explain(model, twice, 0, { steps: 4, baseline: 'uniform', seed: 5 });
    expect(Array.from(itemOf(both.map, 1).data)).toEqual(Array.from(a.map.data));
    const blurred = await ig.explain(model, xi, 0, { steps: 16, baseline: 'blur', blurSigma: 1 });
    expect(Math.max(...gaps(blurred.extras))).toBeLessThan(0.1);
  });

  it('reads a .npy baseline through the files run option, before any model pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlens-ig-'));
    const xi = itemOf(x, 0);
    const base = randomTensor([3, 8, 8], 74, 0.1);
    writeFileSync(join(dir, 'ok.npy'), npyBytes('<f4', [3, 8, 8], base.data));
    writeFileSync(join(dir, 'f64.npy'), npyBytes('<f8', [3, 8, 8], Float64Array.from(base.data)));
    writeFileSync(join(dir, 'c8.npy'), npyBytes('<c8', [3, 8, 8], new Float32Array(384)));
    writeFileSync(join(dir, 'shape.npy'), npyBytes('<f4', [8, 8, 3], new Float32Array(192)));
    const files = nodeFileReader;
    const fromFile = await ig.explain(model, xi, 0, { steps: 4, baseline: join(dir, 'ok.npy'), files });
    const fromTensor = await ig.explain(model, xi, 0, { steps: 4, baseline: base });
    expect(maxAbsDiff(fromFile.map, fromTensor.map)).toBe(0);
    // float64 is read as float32 (core's one dtype policy); these values are float32 already.
    const fromF64 = await ig.explain(model, xi, 0, { steps: 4, baseline: join(dir, 'f64.npy'), files });
    expect(maxAbsDiff(fromF64.map, fromTensor.map)).toBe(0);
    let passes = 0;
    const counting: Model = {
      ...model,
      forward: (input) => {
        passes++;
        return model.forward(input);
      },
      backward: (request) => {
        passes++;
        return model.backward!(request);
      },
    };
    await expect(ig.explain(counting, xi, 0, { baseline: join(dir, 'c8.npy'), files })).rejects.toThrow(
      /c8\.npy: dtype <c8 \(a complex array\) is not supported/,
    );
    await expect(ig.explain(counting, xi, 0, { baseline: join(dir, 'shape.npy'), files })).rejects.toThrow(
      /shape \[8, 8, 3\]; expected \[3, 8, 8\]/,
    );
    await expect(ig.explain(counting, xi, 0, { baseline: join(dir, 'missing.npy'), files })).rejects.toThrow(
      /baseline file: cannot read .*missing\.npy: no such file/,
    );
    await expect(ig.explain(counting, xi, 0, { baseline: join(dir, 'ok.npy') })).rejects.toThrow(
      /is a path, and reading files needs a FileSource: .*nodeFileReader/,
    );
    await expect(
      ig.explain(counting, xi, 0, { baseline: 'b.npy', files: memoryFiles({}) }),
    ).rejects.toMatchObject({
      code: 'invalid-file',
    });
    expect(passes).toBe(0);
  });

  it('rejects a bad scheme, an unknown baseline, and black/white without inputRange', async () => {
    const bare = referenceModel(tinyCnn());
    const xi = itemOf(x, 0);
    await expect(ig.explain(bare, xi, 0, { scheme: 'simpson' as never })).rejects.toThrow(
      /scheme = "simpson" is invalid; expected one of riemann-left/,
    );
    await expect(ig.explain(bare, xi, 0, { baseline: 'grey' })).rejects.toThrow(
      /baseline = "grey" is invalid; expected one of zero, black, white, blur, uniform, mean/,
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
