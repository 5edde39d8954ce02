// Every method of the package explains a batch exactly as it explains each item alone: noise
// depends on (seed, sample) only, and each item accumulates its samples/steps in order, so neither
// an item's place in the batch nor where the chunks of rows split changes a single bit of its map.
import type { Extras } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf } from '../test/fixtures.js';
import { gradientMethods } from './index.js';

/** Small sample counts for the stochastic methods; one case per method of `gradientMethods`. */
const small: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'integrated-gradients': { steps: 5 },
  smoothgrad: { samples: 3 },
  vargrad: { samples: 3 },
  noisegrad: { models: 2 },
  fusiongrad: { models: 2, samples: 2 },
  xrai: { steps: 3, segmentationSize: 0, minSize: 4, minPixels: 2 },
};

/** Further cases: the uniform baseline, and wrappers over bases that run per sample (`ctx.run`). */
const extra: readonly (readonly [string, Readonly<Record<string, unknown>>])[] = [
  ['integrated-gradients', { steps: 5, baseline: 'uniform' }],
  ['smoothgrad', { samples: 2, base: 'integrated-gradients', baseOptions: { steps: 3 } }],
  ['smoothgrad', { samples: 3, base: 'saliency' }],
  ['vargrad', { samples: 3, base: 'guided-backprop' }],
  ['noisegrad', { models: 2, base: 'saliency' }],
  ['fusiongrad', { models: 2, samples: 2, base: 'integrated-gradients', baseOptions: { steps: 2 } }],
];

const cases = [...gradientMethods.map((m) => [m.id, small[m.id] ?? {}] as const), ...extra];

describe('a batch equals its items one by one, bit for bit', () => {
  const model = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
  const x = randomInput(model, 3, 41);
  const targets = [3, 0, 1];
  // batchSize 2 with 3 items: chunks straddle items (and samples/steps) in the batch.
  const run = { batchSize: 2, seed: 5 };

  it('covers every method of gradientMethods', () => {
    const ids = new Set(cases.map(([id]) => id));
    for (const m of gradientMethods) expect(ids.has(m.id)).toBe(true);
  });

  it.each(cases)('%s %j', async (id, options) => {
    const method = gradientMethods.find((m) => m.id === id)!;
    const batch = await method.explain(model, x, targets, { ...options, ...run });
    for (let i = 0; i < targets.length; i++) {
      const alone = await method.explain(model, itemOf(x, i), targets[i], { ...options, ...run });
      expect(Array.from(itemOf(batch.map, i).data)).toEqual(Array.from(alone.map.data));
      const aloneExtras: Extras = alone.extras;
      for (const [key, value] of Object.entries(batch.extras)) {
        if (Array.isArray(value)) expect(value[i]).toEqual((aloneExtras[key] as number[])[0]);
      }
    }
  });
});
