// Every method of the package explains a batch exactly as it explains each item alone: random
// masks and coalitions depend on (seed, sample) only — shared by all items — and each item folds its
// rows in sample order, so neither an item's place in the batch nor where chunks split changes a
// single bit of its map or extras.
import { type Attribution, fromFunction } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf } from '../test/models.js';
import { perturbationMethods } from './index.js';

const reference = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
const data = randomInput(reference, 4, 77);
/** Methods that descend on the input gradient run on the reference model itself. */
const needsGradients = new Set(['meaningful-perturbation', 'extremal-perturbation', 'fgvis']);
/** A masking model for real-time saliency: 2×2 masks for the 5 classes from the pixel sums. */
const masker = fromFunction(
  (x) => {
    const n = x.shape[0];
    const per = x.data.length / n;
    const out = new Float32Array(n * 20);
    for (let i = 0; i < n; i++)
      for (let e = 0; e < per; e++) out[i * 20 + (e % 20)] += 1 / (1 + Math.exp(-x.data[i * per + e]));
    return out.map((v) => v / 10);
  },
  { ...reference.info, name: 'toy-masker', numClasses: 20 },
);

/** Small settings for the 8×8 toy images; one case per method, then further variants. */
const cases: readonly (readonly [string, Readonly<Record<string, unknown>>])[] = [
  ['occlusion', { window: 4, stride: 2 }],
  ['rise', { masks: 9, cells: 3 }],
  ['lime', { samples: 9, segments: 6 }],
  ['kernel-shap', { samples: 9, segments: 6 }],
  ['prediction-difference', { window: 2, samples: 3 }],
  ['occlusion', { window: 3, stride: 2, fill: 'uniform' }],
  ['rise', { masks: 5, cells: 2, fill: 'blur', blurSigma: 1, probability: false }],
  ['lime', { samples: 7, segmentation: 'felzenszwalb', scale: 20, minSize: 4, fill: 'mean' }],
  ['kernel-shap', { samples: 20, segments: 3 }],
  ['prediction-difference', { window: 2, samples: 2, sampling: 'conditional', data, padding: 1 }],
  ['prediction-difference', { window: 3, stride: 1, samples: 2, data, measure: 'score' }],
  ['meaningful-perturbation', { steps: 3, cells: 4 }],
  ['meaningful-perturbation', { steps: 2, cells: 8, objective: 'preservation', fill: 'uniform' }],
  ['extremal-perturbation', { steps: 3, areas: [0.1, 0.3], stride: 2 }],
  ['fgvis', { steps: 2 }],
  ['fgvis', { steps: 2, filter: false, objective: 'preservation' }],
  ['real-time-saliency', { masker }],
];

/** Extras of item i: per-item arrays by index, the flat label map and segment weights by slices. */
function extrasOf(a: Attribution, i: number, pixels: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const counts = a.extras.segmentCount as number[] | undefined;
  for (const [key, value] of Object.entries(a.extras)) {
    if (!Array.isArray(value)) out[key] = value;
    else if (key === 'segments') out[key] = value.slice(i * pixels, (i + 1) * pixels);
    else if (key === 'segmentWeights' && counts) {
      const start = counts.slice(0, i).reduce((s, c) => s + c, 0);
      out[key] = value.slice(start, start + counts[i]);
    } else {
      // Per-item arrays, or several entries per item (extremal perturbation: one per area).
      const per = value.length / a.map.shape[0];
      out[key] = value.slice(i * per, (i + 1) * per);
    }
  }
  return out;
}

describe('a batch equals its items one by one, bit for bit', () => {
  // A black box (forward only) over the reference CNN.
  const blackBox = fromFunction((x) => reference.forward(x), { ...reference.info });
  const x = randomInput(blackBox, 3, 41);
  const targets = [3, 0, 1];
  // batchSize 2 with 3 items: chunks straddle items and samples.
  const run = { batchSize: 2, seed: 5 };

  it('covers every method of perturbationMethods', () => {
    const ids = new Set(cases.map(([id]) => id));
    for (const m of perturbationMethods) expect(ids.has(m.id)).toBe(true);
  });

  // Tensors in the options are named by their shape in the test titles.
  const shown = (options: object) =>
    JSON.stringify(options, (_, v) => (v?.data instanceof Float32Array ? `tensor [${v.shape}]` : v));
  it.each(cases.map(([id, options]) => [id, shown(options), options] as const))(
    '%s %s',
    async (id, _, options) => {
      const method = perturbationMethods.find((m) => m.id === id)!;
      const model = needsGradients.has(id) ? reference : blackBox;
      const batch = await method.explain(model, x, targets, { ...options, ...run });
      for (let i = 0; i < targets.length; i++) {
        const alone = await method.explain(model, itemOf(x, i), targets[i], { ...options, ...run });
        expect(Array.from(itemOf(batch.map, i).data)).toEqual(Array.from(alone.map.data));
        expect(extrasOf(batch, i, 64)).toEqual(extrasOf(alone, 0, 64));
      }
    },
  );
});
