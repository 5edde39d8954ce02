import { defineExplainer } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { gradient } from '@xlens/gradients';
import { describe, expect, it } from 'vitest';
import { sobel } from '../test/check-fixtures.js';
import { modelRandomisation, randomisableLayers } from './model-randomisation.js';

const model = referenceModel(tinyCnn(), { inputRange: [0, 1] });
const input = randomInput(model, 3, 5);

describe('model-randomisation', () => {
  it('gradient maps decorrelate as layers are randomised (pass); a Sobel edge map does not (fail)', async () => {
    const g = await modelRandomisation.run({ model, input, explainer: gradient }, { seed: 1 });
    const s = await modelRandomisation.run({ model, input, explainer: sobel }, { seed: 1 });
    expect(g.verdict).toBe('pass');
    expect(g.score).toBeLessThan(0.5);
    expect(s.verdict).toBe('fail');
    // The edge map never looks at the weights: every measure stays exactly 1 at every step.
    for (const curve of s.curves) for (const y of curve.y) expect(y).toBeCloseTo(1, 10);
    expect(s.score).toBeCloseTo(1, 10);
    expect(s.summary).toBe('spearman-abs = 1 ≥ 0.5: fail');
  });

  it('scores a map that turns constant on the randomised model 0 on every measure, and warns', async () => {
    // Edges on the trained model, all zeros on any model the check derives (as Grad-CAM's ReLU can give).
    const flatWhenRandomised = defineExplainer<Record<never, never>>({
      ...sobel,
      id: 'flat-when-randomised',
      async attribute(ctx) {
        const r = await sobel.attribute(ctx);
        if (ctx.model === model) return r;
        return { ...r, map: { data: new Float32Array(r.map.data.length), shape: r.map.shape } };
      },
    });
    const r = await modelRandomisation.run(
      { model, input, explainer: flatWhenRandomised },
      { modes: 'cascading' },
    );
    expect(r.verdict).toBe('pass');
    expect(r.statistics).toMatchObject({ 'spearman-abs': 0, spearman: 0, ssim: 0, hog: 0 });
    expect(r.warnings.join(' ')).toMatch(/9 map\(s\) of randomised models are constant/);
  });

  it('returns a curve per mode and measure, layers top → bottom, starting at 1 for the trained model', async () => {
    const g = await modelRandomisation.run({ model, input, explainer: gradient }, { seed: 1 });
    expect(g.curves.map((c) => c.id)).toEqual([
      'cascading/spearman-abs',
      'cascading/spearman',
      'cascading/ssim',
      'cascading/hog',
      'independent/spearman-abs',
      'independent/spearman',
      'independent/ssim',
      'independent/hog',
    ]);
    const cascade = g.curves[0];
    expect(cascade.x).toEqual(['original', 'fc', 'conv2', 'conv1']);
    expect(cascade.y[0]).toBeCloseTo(1, 10);
    expect(cascade.items).toHaveLength(3);
    // The last cascading step is the statistic the verdict reads.
    expect(cascade.y[3]).toBeCloseTo(g.score, 12);
    // The caller's model is unchanged.
    const again = await modelRandomisation.run({ model, input, explainer: gradient }, { seed: 1 });
    expect(again.statistics).toEqual(g.statistics);
    // Another seed draws other weights.
    const other = await modelRandomisation.run({ model, input, explainer: gradient }, { seed: 2 });
    expect(other.statistics['spearman-abs']).not.toBe(g.statistics['spearman-abs']);
  });

  it('reports one progress unit per explained model and honours abort', async () => {
    const done: number[] = [];
    await modelRandomisation.run(
      { model, input, explainer: gradient },
      { modes: 'cascading', onProgress: (p) => done.push(p.done) },
    );
    expect(done).toEqual([1, 2, 3, 4]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      modelRandomisation.run({ model, input, explainer: gradient }, { signal: controller.signal }),
    ).rejects.toThrow(/aborted/);
  });

  it('runs cascading only on a chosen subset of layers, and rejects an unknown layer before computing', async () => {
    const r = await modelRandomisation.run(
      { model, input, explainer: gradient },
      { modes: 'cascading', layers: 'conv1, fc' },
    );
    expect(r.curves.map((c) => c.x)).toEqual(Array(4).fill(['original', 'fc', 'conv1']));
    expect(randomisableLayers(model, '')).toEqual(['fc', 'conv2', 'conv1']);
    await expect(
      modelRandomisation.run({ model, input, explainer: gradient }, { layers: 'pool1' }),
    ).rejects.toThrow(/pool1.*conv2/);
  });
});
