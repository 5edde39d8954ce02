import { createRng, defineExplainer, type Tensor } from '@xlens/core';
import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { constantExplainer, plainGradient } from '../test/fixtures.js';
import { continuity } from './continuity.js';

// A small ReLU net on 1×14×14 "digits": conv(6) → conv(6) → global average pool → dense(2).
const rng = createRng(41, 3);
const normal = (count: number, std: number): number[] =>
  Array.from(rng.fillNormal(new Float32Array(count), 0, std));
const model = referenceModel(
  {
    name: 'digit-net',
    inputShape: [1, 14, 14],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'conv1',
        inChannels: 1,
        outChannels: 6,
        kernel: 3,
        padding: 'same',
        weight: normal(54, 0.6),
        bias: normal(6, 0.2),
        activation: 'relu',
      },
      {
        type: 'conv',
        name: 'conv2',
        inChannels: 6,
        outChannels: 6,
        kernel: 3,
        padding: 'same',
        weight: normal(324, 0.25),
        bias: normal(6, 0.2),
        activation: 'relu',
      },
      { type: 'global-avg-pool', name: 'gap' },
      { type: 'dense', name: 'fc', inFeatures: 6, outFeatures: 2, weight: normal(12, 1), bias: [0, 0] },
    ],
  },
  { inputRange: [0, 1] },
);

/** A "1" with a foot: a vertical stroke and a short base, anti-aliased by a small blur. */
function digit(): Tensor {
  const m = new Float32Array(196);
  for (let y = 3; y < 11; y++) m[y * 14 + 5] = 1;
  for (let x = 4; x < 8; x++) m[11 * 14 + x] = 1;
  m[4 * 14 + 4] = 0.8;
  return { data: m, shape: [1, 1, 14, 14] };
}

/** LRP with the z⁺ rule on every conv layer and ε on the dense head (Montavon et al.'s deep Taylor). */
const lrpZPlus = defineExplainer<Record<never, never>>({
  id: 'test-lrp-z-plus',
  family: 'relevance',
  title: 'LRP z+ (test)',
  citation: 'test',
  description: 'test',
  requires: ['gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const r = await ctx.gradient({
      input: ctx.input,
      relevance: true,
      rules: {
        linear: {
          conv1: { kind: 'z-plus' },
          conv2: { kind: 'z-plus' },
          fc: { kind: 'epsilon', epsilon: 1e-6 },
        },
      },
    });
    return { map: r.inputRelevance as Tensor };
  },
});

describe('continuity', () => {
  it('LRP-like maps move smoothly with a translated digit; gradients jump (Montavon et al. 2018)', async () => {
    const options = { steps: 16, stepPixels: 0.25, normalize: true };
    const request = { model, input: digit(), target: 0 };
    const lrp = await continuity.evaluate({ ...request, explainer: lrpZPlus }, options);
    const gradient = await continuity.evaluate({ ...request, explainer: plainGradient }, options);
    expect(lrp.scores[0]).toBeLessThan(gradient.scores[0]);
    expect(lrp.curves?.[0].x).toHaveLength(16);
    expect(lrp.curves?.[0].x[0]).toBe(0.25);
  });

  it('is 0 for an explainer whose map does not depend on the input', async () => {
    const got = await continuity.evaluate(
      { model, input: digit(), explainer: constantExplainer },
      { steps: 3 },
    );
    expect(got.scores[0]).toBe(0);
  });
});
