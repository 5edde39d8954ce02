import { createRng } from '@xlens/core';
import { referenceModel, type ToySpec } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { constant, correlation, itemOf, ringTemplate, templateNet } from '../test/toys.js';
import { dgnAm } from './dgn-am.js';

const template = ringTemplate(8, 8);
/** A linear generator z ∈ ℝ⁴ → 8×8 image whose first column is the template (the others: small noise). */
function linearGenerator(): ToySpec {
  const noise = createRng(4, 1).fillNormal(new Float32Array(64 * 3), 0, 0.1);
  const weight: number[] = [];
  for (let p = 0; p < 64; p++) weight.push(template[p], noise[p * 3], noise[p * 3 + 1], noise[p * 3 + 2]);
  return {
    name: 'linear-generator',
    inputShape: [4, 1, 1],
    numClasses: 64,
    layers: [
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'decode', inFeatures: 4, outFeatures: 64, weight },
    ],
  };
}

describe('dgn-am', () => {
  const classifier = referenceModel(templateNet(template, 1, 8, 8));
  const generator = referenceModel(linearGenerator());
  const method = dgnAm(generator);

  it('maximises in code space: the unit of a template gets G(Gᵀt / 2λ), the template itself', async () => {
    const r = await method.explain(classifier, constant(1, [1, 8, 8], 0), 0, {
      objective: 'unit:unit:0',
      l2: 0.5,
      steps: 300,
      learningRate: 0.1,
    });
    expect(correlation(r.map.data, template)).toBeGreaterThan(0.99);
    expect(r.options.generator).toBe('linear-generator');
  });

  it('a batch gives every item the image it gets alone, snapshots included', async () => {
    const x = constant(3, [1, 8, 8], 0);
    const options = { steps: 5, snapshotEvery: 2, seed: 2 };
    const batch = await method.explain(classifier, x, [0, 1, 0], { ...options, batchSize: 2 });
    for (let i = 0; i < 3; i++) {
      const alone = await method.explain(classifier, itemOf(x, i), [0, 1, 0][i], options);
      expect(Array.from(itemOf(batch.map, i).data)).toEqual(Array.from(alone.map.data));
    }
    expect(batch.extras.snapshotSteps).toEqual([2, 4, 5]);
  });

  it('checks the generator against the classifier before compute', async () => {
    const spec = linearGenerator();
    const short: ToySpec = {
      ...spec,
      numClasses: 63,
      layers: [
        spec.layers[0],
        { type: 'dense', name: 'decode', inFeatures: 4, outFeatures: 63, weight: new Array(252).fill(0) },
      ],
    };
    await expect(
      dgnAm(referenceModel(short)).explain(classifier, constant(1, [1, 8, 8], 0), 0),
    ).rejects.toMatchObject({
      code: 'invalid-shape',
      message: expect.stringMatching(/outputs 63 values per code; template-net reads 64/),
    });
    await expect(
      method.explain(classifier, constant(1, [1, 8, 8], 0), 0, { init: 'input' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/init input needs codeLayer/),
    });
  });
});
