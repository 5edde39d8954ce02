import { defineExplainer, XlensError } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { gradient } from '@xlens/gradients';
import { describe, expect, it } from 'vitest';
import { fragility } from './fragility.js';

const model = referenceModel(tinyCnn(), { inputRange: [0, 1] });
const input = randomInput(model, 3, 2);
const quick = { samples: 4, steps: 3, candidates: 4, fraction: 0.1 };

/** A map that ignores the input: the same ramp for every item, so no attack can move it. */
const ramp = defineExplainer<Record<never, never>>({
  id: 'ramp',
  family: 'other',
  title: 'Ramp',
  citation: 'none (test explainer)',
  description: 'a fixed ramp',
  requires: [],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const n = ctx.input.shape[0];
    return { map: { data: Float32Array.from({ length: n * 64 }, (_, i) => i % 64), shape: [n, 8, 8] } };
  },
});

describe('fragility', () => {
  it('moves gradient maps with perturbations that keep the prediction (fail at a large budget)', async () => {
    const r = await fragility.run({ model, input, explainer: gradient }, { ...quick, epsilon: 0.3, seed: 1 });
    expect(r.verdict).toBe('fail');
    expect(r.score).toBeLessThan(0.5);
    expect(r.statistics.linf).toBeLessThanOrEqual(0.3 + 1e-6);
    expect(r.statistics['kept-prediction']).toBeGreaterThan(0);
    // The iterative attack starts where random sign ended, so it is never weaker.
    for (let i = 0; i < 3; i++)
      expect(r.perItem['top-k-intersection'][i]).toBeLessThanOrEqual(
        r.perItem['random-sign/top-k-intersection'][i],
      );
    expect(r.statistics.k).toBe(6);
  });

  it('finds nothing to move in an input-independent map (pass with intersection 1)', async () => {
    const r = await fragility.run({ model, input, explainer: ramp }, { ...quick, epsilon: 0.3 });
    expect(r.score).toBe(1);
    expect(r.statistics['spearman-abs']).toBe(1);
    expect(r.verdict).toBe('pass');
  });

  it('is deterministic for a seed, gives an item in a batch what it gets alone, reports progress', async () => {
    const events: number[] = [];
    const options = { ...quick, epsilon: 0.1, seed: 5, batchSize: 4 };
    const a = await fragility.run(
      { model, input, explainer: gradient },
      {
        ...options,
        onProgress: (p) => events.push(p.done),
      },
    );
    const b = await fragility.run({ model, input, explainer: gradient }, options);
    expect(b.perItem).toEqual(a.perItem);
    expect(events).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const one = { data: input.data.slice(192, 384), shape: [1, 3, 8, 8] };
    const alone = await fragility.run({ model, input: one, explainer: gradient }, options);
    expect(alone.perItem['top-k-intersection'][0]).toBe(a.perItem['top-k-intersection'][1]);
    expect(alone.perItem['random-sign/spearman-abs'][0]).toBe(a.perItem['random-sign/spearman-abs'][1]);
  });

  it('honours abort and rejects bad options before computing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      fragility.run({ model, input, explainer: gradient }, { ...quick, signal: controller.signal }),
    ).rejects.toThrow(XlensError);
    await expect(fragility.run({ model, input, explainer: gradient }, { steps: 0 })).rejects.toThrow(/steps/);
  });
});
