import { abs, minMaxPerItem, reduceChannels } from '@xlens/core';
import {
  avgPoolCnn,
  biasFreeCnn,
  cnnWithBatchNorm,
  referenceModel,
  type ToySpec,
  tinyCnn,
} from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { countingModel, itemOf, maxAbsDiff, randomTensor } from '../test/fixtures.js';
import { fullgrad } from './fullgrad.js';
import { gradientXInput } from './gradient-x-input.js';

const maxGap = (extras: Record<string, unknown>) =>
  Math.max(...(extras.completenessGap as number[]).map(Math.abs));

describe('fullgrad', () => {
  it('is complete on piecewise-linear nets: Σ ∇x⊙x + Σ ∇z⊙b = logit (fused ReLU, BatchNorm, avg-pool)', async () => {
    for (const spec of [tinyCnn(), cnnWithBatchNorm(), avgPoolCnn()]) {
      const model = referenceModel(spec);
      const x = randomTensor([2, ...spec.inputShape], 121);
      const r = await fullgrad.explain(model, x, [0, 1]);
      expect(r.warnings).toEqual([]);
      expect(r.mapKind).toBe('pixel');
      expect(r.map.shape).toEqual([2, spec.inputShape[1], spec.inputShape[2]]);
      expect(maxGap(r.extras)).toBeLessThan(1e-4);
    }
  });

  it('on a bias-free net is ψ(∇x ⊙ x) alone', async () => {
    const model = referenceModel(biasFreeCnn());
    const x = randomTensor([2, 2, 12, 12], 122);
    const r = await fullgrad.explain(model, x, 3);
    const gi = await gradientXInput.explain(model, x, 3);
    expect(maxAbsDiff(r.map, reduceChannels(minMaxPerItem(abs(gi.map)), 'NCHW', 'sum'))).toBeLessThan(1e-6);
    expect(maxGap(r.extras)).toBeLessThan(1e-4);
  });

  it('does a batch as its items one by one, in either layout, reading biases once per model', async () => {
    const counted = countingModel(referenceModel(cnnWithBatchNorm(), { layout: 'NHWC' }));
    const x = randomTensor([2, 8, 8, 3], 123);
    const batch = await fullgrad.explain(counted.model, x, [2, 0]);
    const one = await fullgrad.explain(counted.model, itemOf(x, 1), 0);
    expect(maxAbsDiff(itemOf(batch.map, 1), one.map)).toBe(0);
    expect(counted.weightReads()).toBe(1);
    expect(counted.derived()).toBe(0);
  });

  it('reads the effective bias of a BatchNorm that follows no conv or dense layer (through weights)', async () => {
    const spec: ToySpec = {
      name: 'bn-first',
      inputShape: [1, 4, 4],
      numClasses: 2,
      layers: [
        { type: 'batchnorm', name: 'bn', gamma: [2], beta: [0.5], mean: [0.1], variance: [1], epsilon: 0 },
        { type: 'flatten', name: 'flatten' },
        {
          type: 'dense',
          name: 'fc',
          inFeatures: 16,
          outFeatures: 2,
          weight: Array.from({ length: 32 }, (_, i) => (i % 5) - 2),
        },
      ],
    };
    const r = await fullgrad.explain(referenceModel(spec), randomTensor([1, 1, 4, 4], 124), 0);
    expect(r.warnings).toEqual([]);
    expect(maxGap(r.extras)).toBeLessThan(1e-4);
  });

  it('needs image batches', async () => {
    await expect(
      fullgrad.explain(referenceModel(tinyCnn()), { data: new Float32Array(3), shape: [1, 3] }, 0),
    ).rejects.toMatchObject({
      code: 'invalid-shape',
    });
  });
});
